"""A real Flask app with flask-cors, for the stack tests.

argv[1] is a JSON file holding the keyword arguments of CORS(app, **kwargs). Served by
werkzeug's make_server(..., threaded=True) on 127.0.0.1 (any free port); prints {"port": N}
once. Run with target/pyenv/bin/python.
"""
import json
import logging
import signal
import sys

from flask import Flask, jsonify
from flask_cors import CORS
from werkzeug.serving import make_server

with open(sys.argv[1], encoding="utf-8") as f:
    kwargs = json.load(f)

app = Flask(__name__)
CORS(app, **kwargs)


@app.get("/api/data")
def get_data():
    response = jsonify(ok=True)
    response.headers["X-Total-Count"] = "42"
    return response


@app.put("/api/data")
def put_data():
    return jsonify(ok=True, method="PUT")


@app.post("/api/data")
def post_data():
    return jsonify(ok=True), 201


@app.delete("/api/data")
def delete_data():
    return jsonify(ok=True)


@app.get("/api/fail")
def fail():
    # A user's bug: an unhandled exception, answered 500 by Flask's handle_exception.
    raise RuntimeError("boom: unhandled exception in the handler")


def _stop(signum, frame):
    raise SystemExit(0)


def main():
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log lines
    server = make_server("127.0.0.1", 0, app, threaded=True)
    signal.signal(signal.SIGTERM, _stop)
    print(json.dumps({"port": server.server_port}), flush=True)
    server.serve_forever()  # closes the socket on the way out (SystemExit from SIGTERM)


if __name__ == "__main__":
    main()
