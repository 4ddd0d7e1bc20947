"""A real FastAPI app behind Starlette's CORSMiddleware, for the stack tests.

argv[1] is a JSON file holding the keyword arguments of
app.add_middleware(CORSMiddleware, **kwargs); with `--outermost` as argv[2] the whole app is
wrapped instead (app = CORSMiddleware(app, **kwargs)), outside ServerErrorMiddleware. Served by uvicorn on a socket pre-bound to
127.0.0.1 (any free port); prints {"port": N} once. Run with target/pyenv/bin/python.
"""
import json
import signal
import socket
import sys

import uvicorn
from fastapi import FastAPI, Response
from fastapi.middleware.cors import CORSMiddleware

with open(sys.argv[1], encoding="utf-8") as f:
    kwargs = json.load(f)

OUTERMOST = sys.argv[2:3] == ["--outermost"]

app = FastAPI()
if not OUTERMOST:
    app.add_middleware(CORSMiddleware, **kwargs)


@app.get("/api/data")
def get_data(response: Response):
    response.headers["X-Total-Count"] = "42"
    return {"ok": True}


@app.put("/api/data")
def put_data():
    return {"ok": True, "method": "PUT"}


@app.post("/api/data", status_code=201)
def post_data():
    return {"ok": True}


@app.delete("/api/data")
def delete_data():
    return {"ok": True}


@app.get("/api/fail")
def fail():
    # A user's bug: an unhandled exception, answered 500 by Starlette's ServerErrorMiddleware.
    raise RuntimeError("boom: unhandled exception in the handler")


def _stop(signum, frame):
    raise SystemExit(0)


def main():
    # uvicorn shuts down gracefully on SIGTERM, then puts back the handler it found and raises
    # the signal again: with this one in place the process then exits with status 0, not 143.
    signal.signal(signal.SIGTERM, _stop)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    server = uvicorn.Server(uvicorn.Config(CORSMiddleware(app, **kwargs) if OUTERMOST else app, log_level="warning", access_log=False))
    print(json.dumps({"port": sock.getsockname()[1]}), flush=True)
    server.run(sockets=[sock])


if __name__ == "__main__":
    main()
