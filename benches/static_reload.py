#!/usr/bin/env python3
"""Static save → reload notification at a connected page: the sandbox's event stream against
Vite's HMR WebSocket, save by save in turn (issue #20, target 2).

Usage: static_reload.py N SANDBOX_PORT SANDBOX_PAGE VITE_PORT VITE_PAGE

Each round saves the sandbox's page, then Vite's (the order alternates every round), each
timed from the save's last system call (the close) to the notification reaching the client:
the sandbox's `static-changed` event on /__sandbox/events, Vite's `full-reload` message on
its WebSocket (subprotocol `vite-hmr`, with the token its client carries). Saves are 150 ms
apart, as a person makes them (the sandbox tells a burst of saves once it settles). A save a
tool never tells within 2 s is counted, not waited on. Prints one line per tool:
`name median p90 max shown/N` (ms). Loopback only; needs Debian's python3-websockets.
"""
import asyncio
import json
import re
import statistics
import sys
import time
import urllib.request

import websockets

GAP_S = 0.15
DEADLINE_S = 2.0


def summary(name, times, n):
    if not times:
        return f"{name} - - - 0/{n}"
    times = sorted(times)
    p90 = times[min(len(times) - 1, int(len(times) * 0.9))]
    return f"{name} {statistics.median(times):.2f} {p90:.2f} {times[-1]:.2f} {len(times)}/{n}"


class Sandbox:
    """The sandbox's event stream, read line by line."""

    async def open(self, port):
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", port)
        self.writer.write(
            f"GET /__sandbox/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Accept: text/event-stream\r\n\r\n".encode()
        )
        await self.writer.drain()
        # Until the stream says the page is connected.
        while b"connected" not in await asyncio.wait_for(self.reader.readline(), 10):
            pass

    async def told(self):
        while True:
            line = await self.reader.readline()
            if not line:
                raise RuntimeError("the sandbox closed its event stream")
            if line.startswith(b"data: ") and b"static-changed" in line:
                return


class Vite:
    """Vite's HMR socket, as its client opens it."""

    async def open(self, port):
        client = urllib.request.urlopen(f"http://127.0.0.1:{port}/@vite/client", timeout=10)
        token = re.search(r'const wsToken = "([^"]*)"', client.read().decode())
        url = f"ws://127.0.0.1:{port}/" + (f"?token={token.group(1)}" if token else "")
        self.ws = await websockets.connect(url, subprotocols=["vite-hmr"], max_size=None)
        while json.loads(await asyncio.wait_for(self.ws.recv(), 10)).get("type") != "connected":
            pass

    async def told(self):
        while True:
            msg = json.loads(await self.ws.recv())
            if msg.get("type") in ("full-reload", "update"):
                return


def save(path, i):
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"<!doctype html><html><body><p>save {i}</p></body></html>\n")


async def timed(tool, path, i):
    """Milliseconds from the save's close to the tool's notification, or None."""
    waiting = asyncio.ensure_future(tool.told())
    save(path, i)
    t0 = time.perf_counter()
    try:
        await asyncio.wait_for(waiting, DEADLINE_S)
    except asyncio.TimeoutError:
        return None
    return (time.perf_counter() - t0) * 1000


async def main():
    n = int(sys.argv[1])
    sandbox_port, sandbox_page = int(sys.argv[2]), sys.argv[3]
    vite_port, vite_page = int(sys.argv[4]), sys.argv[5]
    sandbox, vite = Sandbox(), Vite()
    await sandbox.open(sandbox_port)
    await vite.open(vite_port)
    times = {"sandbox": [], "vite": []}
    for i in range(n):
        order = [("sandbox", sandbox, sandbox_page), ("vite", vite, vite_page)]
        if i % 2:
            order.reverse()
        for name, tool, page in order:
            await asyncio.sleep(GAP_S)  # a person's pace, not a synchronisation
            ms = await timed(tool, page, i)
            if ms is not None:
                times[name].append(ms)
    print(summary("sandbox", times["sandbox"], n))
    print(summary(f"vite-{sys.argv[6] if len(sys.argv) > 6 else ''}".rstrip("-"), times["vite"], n))


asyncio.run(main())
