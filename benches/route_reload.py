#!/usr/bin/env python3
"""Issue #20's routes-file reload row: a save by rename that adds one route to a large routes
file, timed from the rename returning to the first answer from that route, polled on one
keep-alive connection with no sleeps. Loopback only; a bounded number of saves and polls.

    python3 benches/route_reload.py PORT ROUTES_FILE [SAVES]

Prints "median p90 max" in milliseconds. ROUTES_FILE is restored when it ends.
"""
import http.client
import os
import statistics
import sys
import time

MAX_POLLS = 200_000  # a bound on each save's wait, far above any real reload


def main():
    port, path = int(sys.argv[1]), sys.argv[2]
    saves = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    with open(path, encoding="utf-8") as f:
        original = f.read()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    times = []
    try:
        for i in range(saves):
            probe = f"/api/added-{os.getpid()}-{i}"
            text = original + f'\n[[route]]\npath = "{probe}"\njson = {{ added = {i} }}\n'
            # Written beside it first, as an editor does: the timed part is the rename only.
            with open(path + ".new", "w", encoding="utf-8") as f:
                f.write(text)
            os.rename(path + ".new", path)
            t0 = time.perf_counter()
            for _ in range(MAX_POLLS):
                conn.request("GET", probe)
                res = conn.getresponse()
                res.read()
                if res.status == 200:
                    break
            else:
                sys.exit(f"route_reload: {probe} never answered after the save")
            times.append((time.perf_counter() - t0) * 1000)
    finally:
        with open(path + ".new", "w", encoding="utf-8") as f:
            f.write(original)
        os.rename(path + ".new", path)
    times.sort()
    p90 = times[min(len(times) - 1, int(len(times) * 0.9))]
    print(f"{statistics.median(times):.1f} {p90:.1f} {times[-1]:.1f}")


if __name__ == "__main__":
    main()
