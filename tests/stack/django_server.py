"""A single-file Django project with django-cors-headers, for the stack tests.

argv[1] is a JSON file holding Django settings (CORS_ALLOWED_ORIGINS, CORS_ALLOW_ALL_ORIGINS,
CORS_ALLOW_CREDENTIALS, CORS_ALLOW_METHODS, CORS_ALLOW_HEADERS, CORS_EXPOSE_HEADERS,
CORS_PREFLIGHT_MAX_AGE, CORS_ALLOWED_ORIGIN_REGEXES, ...), merged over the base settings.
Served by wsgiref's make_server with a threading server (as `runserver` answers, it sends
`Server: WSGIServer/0.2 CPython/...`) on 127.0.0.1 (any free port); prints {"port": N} once.
Run with target/pyenv/bin/python.
"""
import json
import signal
import socketserver
import sys
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import django
from django.conf import settings
from django.http import HttpResponseNotAllowed, JsonResponse
from django.urls import path

with open(sys.argv[1], encoding="utf-8") as f:
    overrides = json.load(f)

base = dict(
    DEBUG=False,
    ALLOWED_HOSTS=["*"],
    SECRET_KEY="sandbox-stack-test-not-secret",
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=["corsheaders"],
    # No CsrfViewMiddleware: PUT/POST/DELETE are not rejected for want of a token.
    MIDDLEWARE=[
        "corsheaders.middleware.CorsMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.security.SecurityMiddleware",
    ],
    DATABASES={},
    USE_TZ=True,
)
base.update(overrides)
settings.configure(**base)
django.setup()


def data(request):
    if request.method == "GET":
        response = JsonResponse({"ok": True})
        response["X-Total-Count"] = "42"
        return response
    if request.method == "PUT":
        return JsonResponse({"ok": True, "method": "PUT"})
    if request.method == "POST":
        return JsonResponse({"ok": True}, status=201)
    if request.method == "DELETE":
        return JsonResponse({"ok": True})
    return HttpResponseNotAllowed(["GET", "PUT", "POST", "DELETE"])


def fail(request):
    # A user's bug: an unhandled exception, answered 500 by Django's handler500 (DEBUG=False).
    raise RuntimeError("boom: unhandled exception in the handler")


urlpatterns = [path("api/data", data), path("api/fail", fail)]


class ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # no access log lines
        pass


def _stop(signum, frame):
    raise SystemExit(0)


def main():
    from django.core.wsgi import get_wsgi_application

    server = make_server(
        "127.0.0.1", 0, get_wsgi_application(),
        server_class=ThreadingWSGIServer, handler_class=QuietHandler,
    )
    signal.signal(signal.SIGTERM, _stop)
    print(json.dumps({"port": server.server_port}), flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
