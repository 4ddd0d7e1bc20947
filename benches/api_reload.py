#!/usr/bin/env python3
"""Issue #20's peer row for API reload: a save to the file behind a JSON API, timed from the
save's last system call to the first GET that carries the new value, polled on one keep-alive
connection with no sleeps. Runs the targets in turn, save by save (A B A B …), so a noisy
moment hits both. Loopback only; bounded saves and polls.

    python3 benches/api_reload.py SAVES NAME PORT PATH FILE KIND [NAME PORT PATH FILE KIND]…

KIND says how FILE holds the value: `sandbox-toml` (a routes file whose one route answers
`json = { n = N }`) or `json-server` (a db.json whose `student` is `{ "n": N }`). Saves
alternate in place (truncate + write + close) and by rename, or are all one of them with
SAVE_STYLE=inplace or SAVE_STYLE=rename. Prints one line per target:
"NAME median p90 max missed N" (milliseconds; N saves never shown within 2 s). Each FILE is restored when it ends.
"""
import http.client
import json
import os
import statistics
import sys
import time

MAX_POLLS = 200_000
# A save a target has not shown after this long counts as missed (json-server 1.x, for one,
# stops seeing a file replaced by rename) and is reported, not waited on.
DEADLINE_S = 2.0
# How saves are made: `both` (alternating), `inplace` or `rename`.
STYLE = os.environ.get("SAVE_STYLE", "both")


def render(kind, n):
    if kind == "sandbox-toml":
        return f'[[route]]\npath = "/api/student"\njson = {{ n = {n} }}\n'
    if kind == "json-server":
        return json.dumps({"student": {"n": n}})
    sys.exit(f"api_reload: unknown kind {kind}")


def save(path, text, by_rename):
    if by_rename:
        with open(path + ".new", "w", encoding="utf-8") as f:
            f.write(text)
        os.rename(path + ".new", path)
    else:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)


def wait_for(conn, url, n):
    """True once a GET carries `n`; False if none has by the deadline."""
    end = time.perf_counter() + DEADLINE_S
    for _ in range(MAX_POLLS):
        if time.perf_counter() > end:
            return False
        conn.request("GET", url)
        res = conn.getresponse()
        body = res.read()
        if res.status == 200:
            try:
                if json.loads(body).get("n") == n:
                    return True
            except ValueError:
                pass
    return False


def main():
    saves = int(sys.argv[1])
    args = sys.argv[2:]
    targets = [args[i : i + 5] for i in range(0, len(args), 5)]
    originals = {}
    conns = {}
    for name, port, url, path, kind in targets:
        with open(path, encoding="utf-8") as f:
            originals[path] = f.read()
        conns[name] = http.client.HTTPConnection("127.0.0.1", int(port), timeout=10)
    times = {t[0]: [] for t in targets}
    missed = {t[0]: 0 for t in targets}
    try:
        for i in range(saves):
            for name, _port, url, path, kind in targets:
                n = 1000 + i
                text = render(kind, n)
                save(path, text, by_rename=STYLE == "rename" or (STYLE == "both" and i % 2 == 1))
                t0 = time.perf_counter()
                if wait_for(conns[name], url, n):
                    times[name].append((time.perf_counter() - t0) * 1000)
                else:
                    missed[name] += 1
    finally:
        for path, text in originals.items():
            save(path, text, by_rename=True)
    for name, ts in times.items():
        if not ts:
            print(f"{name} - - - missed {missed[name]}")
            continue
        ts.sort()
        p90 = ts[min(len(ts) - 1, int(len(ts) * 0.9))]
        print(f"{name} {statistics.median(ts):.2f} {p90:.2f} {ts[-1]:.2f} missed {missed[name]}")


if __name__ == "__main__":
    main()
