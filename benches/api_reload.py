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
import json
import os
import sys

from reload_timing import connect, poll, save, summary

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


def carries(n):
    def shows(status, body):
        if status != 200:
            return False
        try:
            return json.loads(body).get("n") == n
        except ValueError:
            return False

    return shows


def main():
    saves = int(sys.argv[1])
    args = sys.argv[2:]
    targets = [args[i : i + 5] for i in range(0, len(args), 5)]
    originals = {}
    conns = {}
    for name, port, url, path, kind in targets:
        with open(path, encoding="utf-8") as f:
            originals[path] = f.read()
        conns[name] = connect(int(port))
    times = {t[0]: [] for t in targets}
    missed = {t[0]: 0 for t in targets}
    try:
        for i in range(saves):
            for name, _port, url, path, kind in targets:
                n = 1000 + i
                text = render(kind, n)
                save(path, text, by_rename=STYLE == "rename" or (STYLE == "both" and i % 2 == 1))
                ms = poll(conns[name], url, carries(n), DEADLINE_S)
                if ms is None:
                    missed[name] += 1
                else:
                    times[name].append(ms)
    finally:
        for path, text in originals.items():
            save(path, text, by_rename=True)
    for name, ts in times.items():
        if not ts:
            print(f"{name} - - - missed {missed[name]}")
            continue
        print(f"{name} {summary(ts)} missed {missed[name]}")


if __name__ == "__main__":
    main()
