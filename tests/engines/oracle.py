#!/usr/bin/python3
"""CORS oracle for Firefox ESR and WebKitGTK: what a real engine does with one fetch().

Usage: oracle.py firefox|webkit [--check]

Runs under Debian's /usr/bin/python3 (the interpreter with `gi`). It starts one browser,
prints one line `{"ready": true, "engine": ..., "version": ..., "startup_s": ...}` on
stdout, then reads JSON-lines jobs on stdin and writes one JSON-lines result per job:

  job:    {"id": "...", "page_url": "http://frontend.localhost:P/s/3/page",
           "spec": {"url", "method", "headers": [[n, v], ...], "credentials", "mode"},
           "same_page": false}
          (or, instead of "spec", "expression": JS awaited in the page for the same shape)
  result: {"id", "ok", "status", "headers", "js_error", "stage",
           "console": [every console error/warning line of the job, in order],
           "reasons": [Firefox: each message's nsIScriptError category; WebKit: []],
           "elapsed_s"}

The page at page_url defines `window.__run(spec)` (a promise of {ok, status, headers} or
{ok: false, stage, error}); `js_error` is its `error`, the rejection as script sees it. Each job gets a fresh page (Firefox: a tab in a new user
context; WebKit: a new WebView) unless `same_page` is true, which reuses the previous job's
page without navigating again (a scenario's earlier exchanges, whose preflight cache the
next job must see). A job that cannot run is answered `{"id", "harness_error": "..."}`.

A job's console lines are the ones logged between its start and a marker the page logs
once the fetch has settled (Firefox: an uncaught error; WebKit: a console.log), which
reaches the oracle by the same path after them; a network failure's own block line is
awaited as well. Every wait is bounded.

With SANDBOX_ORACLE_CLOCK=<file> in the environment the browser's processes (not this
script) run on a movable clock: writing an offset such as `+7300` to the file moves their
wall and monotonic clocks at once. WebKit runs under libfaketime (LD_PRELOAD,
FAKETIME_TIMESTAMP_FILE=<file>, FAKETIME_NO_CACHE=1; SANDBOX_FAKETIME_LIB overrides the
library's path); Firefox deadlocks at start-up under libfaketime, so it runs under
clockshift.c (next to this script, built with cc into a temp dir; CLOCKSHIFT_FILE=<file>).
Each result then also carries `page_now_ms` (the page's Date.now() after the fetch, if the
page's runner returns it as `now_ms`) and, for Firefox, `browser_now_ms` (Date.now() in
the parent process, where necko and its preflight cache run).

The names plain.example.test and secure.example.test, and any listed in
SANDBOX_ORACLE_HOSTS (comma-separated), resolve to 127.0.0.1 in both engines (Firefox: its
network.dns.localDomains pref; WebKit: hostmap.c, built with cc and preloaded into its
processes).

With SANDBOX_ORACLE_THIRD_PARTY_COOKIES=allowed the engine accepts third-party cookies
(Firefox: network.cookie.cookieBehavior 0; WebKit: accept policy ALWAYS, no tracking
prevention), as a user who turned the protection off; otherwise each engine's fresh
profile (Firefox partitions them, WebKit blocks them). Every job on a fresh page starts
with an empty cookie jar (Firefox: its new user context; WebKit: its cookies cleared).

With --check it only says whether the engine is installed. A missing engine exits with
status 3 and one line on stderr saying what to install. On end of input it closes the
browser and exits 0.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

EXIT_MISSING = 3

# How long one fetch may take in the page before the job is reported as hung.
FETCH_DEADLINE_S = 20.0
# How long to wait for the console lines of a blocked fetch.
CONSOLE_DEADLINE_S = 4.0
# How long to wait for the engine to start.
STARTUP_DEADLINE_S = 60.0
# The text of the marker a page logs after a job, to know the job's lines have all come.
SYNC_MARK = "__sandbox_oracle_sync__"
# Debian's libfaketime (package faketime), preloaded when SANDBOX_ORACLE_CLOCK is set.
FAKETIME_LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"


# The names mapped to loopback in every engine (as Chromium's --host-resolver-rules map
# *.example.test), plus any listed in SANDBOX_ORACLE_HOSTS (comma-separated).
LOOPBACK_NAMES = ["plain.example.test", "secure.example.test"]


def loopback_names():
    extra = [n.strip() for n in os.environ.get("SANDBOX_ORACLE_HOSTS", "").split(",")]
    return ",".join(LOOPBACK_NAMES + [n for n in extra if n])


def hostmap_env(workdir):
    """hostmap.c built into `workdir` and its variables: WebKit's resolver maps the loopback
    names (LD_PRELOAD, before any library already preloaded)."""
    source = os.path.join(os.path.dirname(os.path.abspath(__file__)), "hostmap.c")
    library = os.path.join(workdir, "hostmap.so")
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        missing("the WebKit oracle needs a C compiler for hostmap.c: apt-get install gcc")
    subprocess.run([cc, "-shared", "-fPIC", "-O2", "-o", library, source, "-ldl"], check=True)
    preload = " ".join(p for p in [library, os.environ.get("LD_PRELOAD", "")] if p)
    return {"LD_PRELOAD": preload, "HOSTMAP_NAMES": loopback_names()}


def third_party_cookies_allowed():
    return os.environ.get("SANDBOX_ORACLE_THIRD_PARTY_COOKIES") == "allowed"


def clock_file():
    """The clock file the browser's time follows (SANDBOX_ORACLE_CLOCK), or None."""
    return os.environ.get("SANDBOX_ORACLE_CLOCK") or None


def faketime_env():
    """libfaketime's variables for the clock file, or {} without one."""
    clock = clock_file()
    if clock is None:
        return {}
    lib = os.environ.get("SANDBOX_FAKETIME_LIB") or FAKETIME_LIB
    if not os.path.isfile(lib):
        missing("SANDBOX_ORACLE_CLOCK needs libfaketime (%s): apt-get install faketime" % lib)
    return {"LD_PRELOAD": lib, "FAKETIME_TIMESTAMP_FILE": clock, "FAKETIME_NO_CACHE": "1"}


def clockshift_env(workdir):
    """clockshift.c built into `workdir` and its variables for the clock file, or {}."""
    clock = clock_file()
    if clock is None:
        return {}
    source = os.path.join(os.path.dirname(os.path.abspath(__file__)), "clockshift.c")
    library = os.path.join(workdir, "clockshift.so")
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        missing("SANDBOX_ORACLE_CLOCK needs a C compiler for clockshift.c: apt-get install gcc")
    subprocess.run([cc, "-shared", "-fPIC", "-O2", "-o", library, source], check=True)
    return {"LD_PRELOAD": library, "CLOCKSHIFT_FILE": clock}


def emit(obj):
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def missing(what):
    sys.stderr.write("oracle: %s\n" % what)
    sys.stderr.flush()
    sys.exit(EXIT_MISSING)


def log(text):
    sys.stderr.write("oracle: %s\n" % text)
    sys.stderr.flush()


def wait_for(predicate, deadline, step=None):
    """Polls `predicate` until it is true or `deadline` (time.monotonic()) passes.

    `step` is called between polls and must block briefly on something real (an event, a
    main-loop iteration); without one a threading.Event wait with a short timeout is used.
    """
    idle = threading.Event()
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        if step is not None:
            step()
        else:
            idle.wait(0.02)


def result_of(job, run, console, reasons, started):
    """The job's result line from the runner's answer and the collected console."""
    run = run or {}
    ok = bool(run.get("ok"))
    clock = {"page_now_ms": run.get("now_ms")} if clock_file() else {}
    return {
        **clock,
        "id": job.get("id"),
        "ok": ok,
        "status": run.get("status") if ok else None,
        "headers": run.get("headers") if ok else None,
        "js_error": None if ok else run.get("error"),
        "stage": None if ok else run.get("stage"),
        # Whatever else the runner answered (`value`), as it is.
        "value": run.get("value"),
        "console": console,
        "reasons": reasons,
        "elapsed_s": round(time.monotonic() - started, 3),
    }


def network_failure(run, text):
    """Whether the fetch failed on the network (the engine then logs why), not in script."""
    return not run.get("ok") and run.get("stage") == "fetch" and text in (run.get("error") or "")


# What a job awaits on its page: the page's runner with the job's spec, or the job's own
# `expression` (a promise of the same shape, e.g. a fixture page's `window.fixtureResults`
# wrapped so: the page then makes its own requests).
def awaited(job):
    if job.get("expression"):
        return "(%s)" % job["expression"]
    return "window.__run(%s)" % json.dumps(job["spec"])


# How the job is run, answering JSON text.
def run_expression(job):
    return "(async () => { const r = await %s; return JSON.stringify(r); })()" % awaited(job)


def read_jobs():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            yield json.loads(line)
        except ValueError as e:
            emit({"id": None, "harness_error": "bad job line: %s" % e})


# ----------------------------------------------------------------------------------------
# Firefox ESR over WebDriver BiDi
# ----------------------------------------------------------------------------------------

FIREFOX_PREFS = {
    # No HTTPS upgrades of the loopback http:// origins.
    "dom.security.https_first": False,
    "dom.security.https_first_schemeless": False,
    "dom.security.https_first_pbm": False,
    "dom.security.https_only_mode": False,
    # No DNS over HTTPS, no proxy, no Local Network Access prompts.
    "network.trr.mode": 5,
    "network.proxy.type": 0,
    "network.lna.enabled": False,
    # Quiet: nothing phones home, nothing to show on start.
    "toolkit.telemetry.enabled": False,
    "toolkit.telemetry.unified": False,
    "datareporting.policy.dataSubmissionEnabled": False,
    "datareporting.healthreport.uploadEnabled": False,
    "app.normandy.enabled": False,
    "app.shield.optoutstudies.enabled": False,
    "messaging-system.rsexperimentloader.enabled": False,
    "browser.discovery.enabled": False,
    "app.update.auto": False,
    "app.update.enabled": False,
    "extensions.update.enabled": False,
    "browser.shell.checkDefaultBrowser": False,
    "browser.startup.homepage_override.mstone": "ignore",
    "browser.startup.page": 0,
    "browser.newtabpage.enabled": False,
    "browser.safebrowsing.malware.enabled": False,
    "browser.safebrowsing.phishing.enabled": False,
    "browser.safebrowsing.downloads.enabled": False,
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
    "browser.ping-centre.telemetry": False,
    "remote.prefs.recommended": True,
    # Every message of the console service is kept (the reason keys are read from it).
    "devtools.errorconsole.enabled": True,
}

# The chrome-context script that reads (and empties) the browser console: every error or
# warning nsIScriptError from content, oldest first.
CONSOLE_READ = r"""
(() => {
  const out = [];
  for (const m of Services.console.getMessageArray() || []) {
    let e;
    try { e = m.QueryInterface(Ci.nsIScriptError); } catch (_) { continue; }
    if (e.isFromChromeContext) { continue; }
    const warning = (e.flags & Ci.nsIScriptError.warningFlag) != 0;
    const info = (e.flags & Ci.nsIScriptError.infoFlag) != 0;
    if (info) { continue; }
    out.push({ text: e.errorMessage, category: e.category, warning: warning,
               window: e.innerWindowID });
  }
  return JSON.stringify(out);
})()
"""

CONSOLE_RESET = "Services.console.reset(); 'reset'"

# What script sees when Firefox blocks a request on the network (as opposed to a TypeError
# thrown before any request, such as a forbidden method, which logs nothing).
NETWORK_ERROR_FIREFOX = "NetworkError when attempting to fetch resource"


def firefox_binary():
    env = os.environ.get("SANDBOX_FIREFOX")
    if env:
        return env if os.access(env, os.X_OK) else None
    for name in ("/usr/bin/firefox-esr", "/usr/bin/firefox"):
        if os.access(name, os.X_OK):
            return name
    return shutil.which("firefox-esr") or shutil.which("firefox")


def firefox_check():
    if firefox_binary() is None:
        missing(
            "Firefox is not installed (looked for $SANDBOX_FIREFOX, /usr/bin/firefox-esr,"
            " firefox on PATH): apt-get install firefox-esr"
        )
    try:
        import websockets  # noqa: F401
    except ImportError:
        missing(
            "the Python module websockets is missing for %s: apt-get install"
            " python3-websockets" % sys.executable
        )


def die_with_parent():
    """preexec_fn: the browser gets SIGKILL when this process dies."""
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class BiDi:
    """A WebDriver BiDi connection: commands by id, events kept in order."""

    def __init__(self, ws):
        self.ws = ws
        self.next_id = 1
        self.pending = {}
        self.events = []
        self.reader = None

    async def start(self):
        import asyncio

        self.reader = asyncio.ensure_future(self._read())

    async def _read(self):
        try:
            async for raw in self.ws:
                msg = json.loads(raw)
                if "id" in msg and msg["id"] in self.pending:
                    fut = self.pending.pop(msg["id"])
                    if not fut.done():
                        fut.set_result(msg)
                elif msg.get("type") == "event":
                    self.events.append(msg)
        finally:
            for fut in self.pending.values():
                if not fut.done():
                    fut.set_exception(ConnectionError("BiDi connection closed"))
            self.pending.clear()

    async def call(self, method, params, timeout=30.0):
        import asyncio

        cid = self.next_id
        self.next_id += 1
        fut = asyncio.get_event_loop().create_future()
        self.pending[cid] = fut
        await self.ws.send(json.dumps({"id": cid, "method": method, "params": params}))
        msg = await asyncio.wait_for(fut, timeout)
        if msg.get("type") == "error" or "error" in msg and msg.get("type") != "success":
            raise RuntimeError(
                "%s: %s: %s" % (method, msg.get("error"), msg.get("message"))
            )
        return msg.get("result", {})


class Firefox:
    def __init__(self):
        self.proc = None
        self.profile = None
        self.bidi = None
        self.stderr_lines = []
        self.chrome = None
        self.version = None
        self.page = None  # (user context, browsing context) of the last job
        self.sync = 0

    async def start(self):
        import asyncio

        import websockets

        binary = firefox_binary()
        self.profile = tempfile.mkdtemp(prefix="sandbox-firefox-")
        prefs = dict(FIREFOX_PREFS)
        # Firefox resolves every *.localhost name to loopback by itself; the plain names (not
        # potentially trustworthy, so an https page calling them is mixed content) are mapped
        # to it as Chromium's --host-resolver-rules map *.example.test.
        prefs["network.dns.localDomains"] = loopback_names()
        if third_party_cookies_allowed():
            prefs["network.cookie.cookieBehavior"] = 0
        with open(os.path.join(self.profile, "user.js"), "w") as f:
            for name, value in prefs.items():
                f.write("user_pref(%s, %s);\n" % (json.dumps(name), json.dumps(value)))
        env = dict(os.environ)
        env["MOZ_CRASHREPORTER_DISABLE"] = "1"
        env.update(clockshift_env(self.profile))
        env.pop("DISPLAY", None)
        self.proc = subprocess.Popen(
            [
                binary,
                "--headless",
                "--no-remote",
                "--profile",
                self.profile,
                "--remote-debugging-port",
                "0",
                "--remote-allow-system-access",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
            preexec_fn=die_with_parent,
        )
        found = threading.Event()
        url = []

        def read_stderr():
            for raw in self.proc.stderr:
                line = raw.decode("utf-8", "replace").rstrip("\n")
                self.stderr_lines.append(line)
                m = re.search(r"WebDriver BiDi listening on (ws://\S+)", line)
                if m and not url:
                    url.append(m.group(1))
                    found.set()
            found.set()

        threading.Thread(target=read_stderr, daemon=True).start()
        deadline = time.monotonic() + STARTUP_DEADLINE_S
        while not found.is_set() and time.monotonic() < deadline:
            await asyncio.get_event_loop().run_in_executor(None, found.wait, 0.5)
        if not url:
            raise RuntimeError(
                "Firefox did not announce its BiDi endpoint; stderr:\n"
                + "\n".join(self.stderr_lines[-20:])
            )
        ws_url = url[0].rstrip("/") + "/session"
        ws = await websockets.connect(ws_url, max_size=None, open_timeout=30)
        self.bidi = BiDi(ws)
        await self.bidi.start()
        session = await self.bidi.call(
            "session.new", {"capabilities": {"alwaysMatch": {"acceptInsecureCerts": True}}}
        )
        caps = session.get("capabilities", {})
        self.version = "%s %s" % (caps.get("browserName"), caps.get("browserVersion"))
        tree = await self.bidi.call("browsingContext.getTree", {"moz:scope": "chrome"})
        contexts = tree.get("contexts") or []
        if not contexts:
            raise RuntimeError("Firefox shows no chrome window to read its console from")
        self.chrome = contexts[0]["context"]

    async def chrome_eval(self, expression):
        r = await self.bidi.call(
            "script.evaluate",
            {
                "expression": expression,
                "target": {"context": self.chrome},
                "awaitPromise": False,
                "resultOwnership": "none",
            },
        )
        if r.get("type") != "success":
            raise RuntimeError("chrome script: %s" % json.dumps(r.get("exceptionDetails")))
        return r["result"].get("value")

    async def read_console(self):
        return json.loads(await self.chrome_eval(CONSOLE_READ))

    async def close_page(self):
        if self.page is None:
            return
        user_context, _ = self.page
        self.page = None
        try:
            await self.bidi.call("browser.removeUserContext", {"userContext": user_context})
        except Exception as e:  # noqa: BLE001 — a page that will not close is reported
            log("could not close a page: %s" % e)

    async def open_page(self, url):
        await self.close_page()
        uc = await self.bidi.call("browser.createUserContext", {})
        user_context = uc["userContext"]
        created = await self.bidi.call(
            "browsingContext.create", {"type": "tab", "userContext": user_context}
        )
        context = created["context"]
        self.page = (user_context, context)
        await self.bidi.call(
            "browsingContext.navigate", {"context": context, "url": url, "wait": "complete"}
        )

    async def run_job(self, job):
        import asyncio

        started = time.monotonic()
        if not (job.get("same_page") and self.page is not None):
            await self.open_page(job["page_url"])
        await self.chrome_eval(CONSOLE_RESET)
        _, context = self.page
        r = await self.bidi.call(
            "script.evaluate",
            {
                "expression": run_expression(job),
                "target": {"context": context},
                "awaitPromise": True,
                "resultOwnership": "none",
            },
            timeout=FETCH_DEADLINE_S,
        )
        if r.get("type") != "success":
            raise RuntimeError("page script: %s" % json.dumps(r.get("exceptionDetails")))
        run = json.loads(r["result"]["value"])
        # A block's lines reach the browser console from the page's content process, and
        # the last of them ("CORS request did not succeed" after a failed preflight) can
        # come a little after the page sees the rejection. So the page now logs a marker
        # error of its own, which travels the same way after them: everything before the
        # marker is this job's. A network failure's own line (a CORS block, or a "Security
        # Error" for a same-origin request) is awaited too, bounded.
        self.sync += 1
        marker = "%s%d" % (SYNC_MARK, self.sync)
        r = await self.bidi.call(
            "script.evaluate",
            {
                "expression": "setTimeout(() => { throw new Error(%s); }, 0); 0"
                % json.dumps(marker),
                "target": {"context": context},
                "awaitPromise": False,
                "resultOwnership": "none",
            },
        )
        failed = network_failure(run, NETWORK_ERROR_FIREFOX)
        deadline = time.monotonic() + CONSOLE_DEADLINE_S
        while True:
            messages = await self.read_console()
            synced = any(marker in m["text"] for m in messages)
            blocked_line = any(SYNC_MARK not in m["text"] for m in messages)
            if synced and (blocked_line or not failed) or time.monotonic() >= deadline:
                break
            await asyncio.sleep(0.01)  # a poll interval, bounded by the deadline
        if not synced:
            log("%s: the console marker did not arrive" % job.get("id"))
        messages = [m for m in messages if SYNC_MARK not in m["text"]]
        console = [m["text"] for m in messages]
        reasons = [m["category"] for m in messages]
        result = result_of(job, run, console, reasons, started)
        if clock_file():
            result["browser_now_ms"] = await self.chrome_eval("Date.now()")
        return result

    async def close(self):
        try:
            await self.close_page()
            if self.bidi is not None:
                try:
                    await self.bidi.call("browser.close", {}, timeout=10)
                except Exception:  # noqa: BLE001 — closing anyway
                    pass
                await self.bidi.ws.close()
        finally:
            if self.proc is not None:
                try:
                    self.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            if self.profile:
                shutil.rmtree(self.profile, ignore_errors=True)


def firefox_main():
    import asyncio

    firefox_check()
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    ff = Firefox()
    t0 = time.monotonic()
    try:
        loop.run_until_complete(ff.start())
    except Exception as e:  # noqa: BLE001 — reported, then the process exits
        log("Firefox did not start: %s" % e)
        loop.run_until_complete(ff.close())
        sys.exit(1)
    emit(
        {
            "ready": True,
            "engine": "firefox",
            "version": ff.version,
            "startup_s": round(time.monotonic() - t0, 3),
        }
    )
    try:
        for job in read_jobs():
            try:
                emit(loop.run_until_complete(ff.run_job(job)))
            except Exception as e:  # noqa: BLE001 — one job's failure is its answer
                emit({"id": job.get("id"), "harness_error": "%s: %s" % (type(e).__name__, e)})
                loop.run_until_complete(ff.close_page())
    finally:
        loop.run_until_complete(ff.close())


# ----------------------------------------------------------------------------------------
# WebKitGTK (WebKit2 4.1) under Xvfb
# ----------------------------------------------------------------------------------------

# `[url:line:col: ]CONSOLE [<SOURCE> ]<LEVEL> <text>` as the web process prints it (page
# console.log calls come without a source: `CONSOLE LOG <text>`).
WEBKIT_CONSOLE = re.compile(
    r"^(?:(?P<where>.*?): )?CONSOLE (?:(?P<source>[A-Z]+) )?"
    r"(?P<level>LOG|DEBUG|INFO|WARN|WARNING|ERROR) (?P<text>.*)$"
)
WEBKIT_BLOCK_END = "Fetch API cannot load"
# What script sees when WebKit blocks a request on the network.
NETWORK_ERROR_WEBKIT = "Load failed"


def webkit_check():
    try:
        import gi

        gi.require_version("Gtk", "3.0")
        gi.require_version("WebKit2", "4.1")
        from gi.repository import WebKit2  # noqa: F401
    except (ImportError, ValueError) as e:
        missing(
            "WebKitGTK is not usable from %s (%s): apt-get install gir1.2-webkit2-4.1"
            " (python3-gi comes with Debian)" % (sys.executable, e)
        )
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        if shutil.which("xvfb-run") is None or shutil.which("Xvfb") is None:
            missing("WebKitGTK needs a display and xvfb-run is missing: apt-get install xvfb xauth")


class ConsoleTap:
    """Puts one pty on fds 1 and 2, which the web processes inherit: they write to it
    unbuffered and in order (console.log lines go to stdout, console errors to stderr).
    Every console line is kept; any other line goes on to the real stderr. The results go
    to the real stdout, kept aside."""

    def __init__(self):
        self.lines = []
        self.lock = threading.Lock()
        master, slave = os.openpty()
        sys.stdout.flush()
        sys.stderr.flush()
        self.real_out = os.dup(1)
        self.real = os.dup(2)
        os.dup2(slave, 1)
        os.dup2(slave, 2)
        os.close(slave)
        sys.stdout = os.fdopen(os.dup(self.real_out), "w", buffering=1)
        sys.stderr = os.fdopen(os.dup(self.real), "w", buffering=1)
        self.master = master
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        pending = b""
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                break
            if not chunk:
                break
            pending += chunk
            while b"\n" in pending:
                raw, pending = pending.split(b"\n", 1)
                line = raw.decode("utf-8", "replace").rstrip("\r")
                if WEBKIT_CONSOLE.match(line):
                    with self.lock:
                        self.lines.append(line)
                elif line:
                    os.write(self.real, (line + "\n").encode())

    def count(self):
        with self.lock:
            return len(self.lines)

    def since(self, mark):
        with self.lock:
            return list(self.lines[mark:])


class WebKit:
    def __init__(self, tap):
        import gi

        gi.require_version("Gtk", "3.0")
        gi.require_version("WebKit2", "4.1")
        from gi.repository import GLib, Gtk, WebKit2

        self.GLib, self.Gtk, self.WebKit2 = GLib, Gtk, WebKit2
        # The web and network processes are spawned later and inherit this environment;
        # this process keeps its real clock (its deadlines stay true).
        os.environ.update(faketime_env())
        self.tap = tap
        self.dir = tempfile.mkdtemp(prefix="sandbox-webkit-")
        os.environ.update(hostmap_env(self.dir))
        # A normal (non-ephemeral) data manager: in an ephemeral session the console
        # setting is silently ignored.
        manager = WebKit2.WebsiteDataManager(
            base_data_directory=os.path.join(self.dir, "data"),
            base_cache_directory=os.path.join(self.dir, "cache"),
        )
        # A page on an HTTPS origin of the test's own CA, which no profile trusts (Firefox is
        # started with acceptInsecureCerts for the same reason).
        manager.set_tls_errors_policy(WebKit2.TLSErrorsPolicy.IGNORE)
        if third_party_cookies_allowed():
            manager.set_itp_enabled(False)
            manager.get_cookie_manager().set_accept_policy(WebKit2.CookieAcceptPolicy.ALWAYS)
        self.manager = manager
        self.context = WebKit2.WebContext(website_data_manager=manager)
        self.context.set_cache_model(WebKit2.CacheModel.DOCUMENT_VIEWER)
        self.settings = WebKit2.Settings()
        self.settings.set_property("enable-write-console-messages-to-stdout", True)
        self.settings.set_property("enable-javascript", True)
        self.version = "WebKitGTK %d.%d.%d" % (
            WebKit2.get_major_version(),
            WebKit2.get_minor_version(),
            WebKit2.get_micro_version(),
        )
        self.view = None
        self.window = None
        self.sync = 0
        # The main loop wakes at least this often while a wait polls.
        GLib.timeout_add(20, lambda: True)

    def step(self):
        self.GLib.MainContext.default().iteration(True)

    def close_page(self):
        if self.window is not None:
            self.window.destroy()
        self.view = None
        self.window = None

    def open_page(self, url):
        self.close_page()
        view = self.WebKit2.WebView(web_context=self.context, settings=self.settings)
        window = self.Gtk.OffscreenWindow()
        window.add(view)
        window.show_all()
        self.view, self.window = view, window
        state = {"done": False, "error": None}

        def changed(_view, event):
            if event == self.WebKit2.LoadEvent.FINISHED:
                state["done"] = True

        def failed(_view, _event, uri, error):
            state["error"] = "%s: %s" % (uri, error.message)
            return False

        view.connect("load-changed", changed)
        view.connect("load-failed", failed)
        view.load_uri(url)
        if not wait_for(lambda: state["done"], time.monotonic() + 30, self.step):
            raise RuntimeError("page did not load: %s" % url)
        if state["error"]:
            raise RuntimeError("page failed to load: %s" % state["error"])

    def evaluate(self, body, timeout):
        state = {"done": False, "value": None, "error": None}

        def finished(view, res):
            try:
                value = view.call_async_javascript_function_finish(res)
                state["value"] = value.to_json(0) if value is not None else None
            except Exception as e:  # noqa: BLE001 — the script's failure is reported
                state["error"] = str(e)
            state["done"] = True

        self.view.call_async_javascript_function(body, -1, None, None, None, None, finished)
        if not wait_for(lambda: state["done"], time.monotonic() + timeout, self.step):
            raise RuntimeError("script did not finish within %ss" % timeout)
        if state["error"]:
            raise RuntimeError("page script: %s" % state["error"])
        return state["value"]

    def clear_cookies(self):
        state = {"done": False}

        def cleared(manager, res):
            manager.clear_finish(res)
            state["done"] = True

        self.manager.clear(self.WebKit2.WebsiteDataTypes.COOKIES, 0, None, cleared)
        if not wait_for(lambda: state["done"], time.monotonic() + 10, self.step):
            raise RuntimeError("the cookies were not cleared within 10 s")

    def run_job(self, job):
        started = time.monotonic()
        if not (job.get("same_page") and self.view is not None):
            # A fresh page, a fresh jar: as Firefox's new user context per job.
            self.clear_cookies()
            self.open_page(job["page_url"])
        mark = self.tap.count()
        raw = self.evaluate(
            "const r = await %s; return JSON.stringify(r);" % awaited(job),
            FETCH_DEADLINE_S,
        )
        run = json.loads(json.loads(raw)) if raw else {}
        deadline = time.monotonic() + CONSOLE_DEADLINE_S
        if network_failure(run, NETWORK_ERROR_WEBKIT):
            # Every blocked fetch ends its lines with "Fetch API cannot load"; they can
            # arrive well after the rejection.
            wait_for(
                lambda: any(WEBKIT_BLOCK_END in l for l in self.tap.since(mark)),
                deadline,
                self.step,
            )
        # A marker logged now from the page comes after whatever the page's process had
        # already been told to print: wait for it, then everything before it is this job's.
        self.sync += 1
        marker = "%s%d" % (SYNC_MARK, self.sync)
        self.evaluate("console.log(%s); return 0;" % json.dumps(marker), 10)
        wait_for(lambda: any(marker in l for l in self.tap.since(mark)), deadline, self.step)
        console = []
        for line in self.tap.since(mark):
            if SYNC_MARK in line:
                if marker in line:
                    break
                continue
            m = WEBKIT_CONSOLE.match(line)
            if m and m.group("level") in ("ERROR", "WARNING", "WARN"):
                console.append(m.group("text"))
        return result_of(job, run, console, [], started)

    def close(self):
        self.close_page()
        shutil.rmtree(self.dir, ignore_errors=True)


def webkit_main():
    webkit_check()
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        # No display: run again under a private Xvfb server.
        os.execvp(
            "xvfb-run",
            ["xvfb-run", "-a", sys.executable, os.path.abspath(__file__), "webkit"],
        )
    t0 = time.monotonic()
    tap = ConsoleTap()
    try:
        wk = WebKit(tap)
        # Start-up includes the first web process: load a blank page once.
        wk.open_page("about:blank")
        wk.close_page()
    except Exception as e:  # noqa: BLE001 — reported, then the process exits
        log("WebKit did not start: %s" % e)
        sys.exit(1)
    emit(
        {
            "ready": True,
            "engine": "webkit",
            "version": wk.version,
            "startup_s": round(time.monotonic() - t0, 3),
        }
    )
    try:
        for job in read_jobs():
            try:
                emit(wk.run_job(job))
            except Exception as e:  # noqa: BLE001 — one job's failure is its answer
                emit({"id": job.get("id"), "harness_error": "%s: %s" % (type(e).__name__, e)})
                wk.close_page()
    finally:
        wk.close()


def main():
    args = sys.argv[1:]
    if not args or args[0] not in ("firefox", "webkit"):
        sys.stderr.write("usage: oracle.py firefox|webkit [--check]\n")
        sys.exit(2)
    engine = args[0]
    if "--check" in args[1:]:
        (firefox_check if engine == "firefox" else webkit_check)()
        print("%s: ready" % engine)
        return
    if engine == "firefox":
        firefox_main()
    else:
        webkit_main()


if __name__ == "__main__":
    main()
