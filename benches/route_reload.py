#!/usr/bin/env python3
"""Issue #20's routes-file reload row: a save by rename that adds one route to a large routes
file, timed from the rename returning to the first answer from that route, polled on one
keep-alive connection with no sleeps. Loopback only; a bounded number of saves and polls.

    python3 benches/route_reload.py PORT ROUTES_FILE [SAVES]

Prints "median p90 max" in milliseconds. ROUTES_FILE is restored when it ends.
"""
import os
import sys

from reload_timing import connect, poll, save, summary

DEADLINE_S = 10.0  # far above any real reload: a save not shown by then is a failure


def main():
    port, path = int(sys.argv[1]), sys.argv[2]
    saves = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    with open(path, encoding="utf-8") as f:
        original = f.read()
    conn = connect(port)
    times = []
    try:
        for i in range(saves):
            probe = f"/api/added-{os.getpid()}-{i}"
            text = original + f'\n[[route]]\npath = "{probe}"\njson = {{ added = {i} }}\n'
            # Written beside it first, as an editor does: the timed part is the rename only.
            save(path, text, by_rename=True)
            ms = poll(conn, probe, lambda status, _body: status == 200, DEADLINE_S)
            if ms is None:
                sys.exit(f"route_reload: {probe} never answered after the save")
            times.append(ms)
    finally:
        save(path, original, by_rename=True)
    print(summary(times))


if __name__ == "__main__":
    main()
