"""What the reload benchmarks share: saving a file as an editor does, polling one keep-alive
connection until an answer shows the save (bounded in polls and in time, never sleeping), and
the summary line. Imported by `route_reload.py` and `api_reload.py`; loopback only."""
import http.client
import os
import statistics
import time

MAX_POLLS = 200_000


def connect(port):
    return http.client.HTTPConnection("127.0.0.1", port, timeout=10)


def save(path, text, by_rename):
    """In place (truncate + write + close), or written beside and renamed onto the name."""
    if by_rename:
        with open(path + ".new", "w", encoding="utf-8") as f:
            f.write(text)
        os.rename(path + ".new", path)
    else:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)


def poll(conn, url, shows, deadline_s):
    """Milliseconds from now until a GET of `url` answers with `shows(status, body)` true, or
    None if none does within `deadline_s`."""
    t0 = time.perf_counter()
    end = t0 + deadline_s
    for _ in range(MAX_POLLS):
        if time.perf_counter() > end:
            return None
        conn.request("GET", url)
        res = conn.getresponse()
        body = res.read()
        if shows(res.status, body):
            return (time.perf_counter() - t0) * 1000
    return None


def summary(times):
    """ "median p90 max" in milliseconds."""
    times = sorted(times)
    p90 = times[min(len(times) - 1, int(len(times) * 0.9))]
    return f"{statistics.median(times):.2f} {p90:.2f} {times[-1]:.2f}"
