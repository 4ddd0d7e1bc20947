// sandbox live reload: injected into every HTML page of a static origin.
// Listens to /__sandbox/events (same origin), re-dispatches every event on `window` as a
// CustomEvent `sandbox:<type>` (the lab and the inspector listen to those), and:
//   static-changed  → reloads the page (a CSS-only change swaps stylesheets instead);
//   reload-failed   → shows an overlay naming the file, line and message;
//   reloaded        → removes that file's part of the overlay (all of it when none is left).
// Also dispatches `sandbox:connected` / `sandbox:disconnected` when the stream opens or drops.
// On every (re)connect the stream itself first replays a `reload-failed` event for each file
// whose last reload failed, so a page opened (or reconnected) after a bad save still shows the
// overlay; the status board needs the run's key, which a user's page may not have.
//
// The overlay is styled through element.style only: it must look the same on any page, and a
// page's Content-Security-Policy may forbid <style> elements but not CSSOM styles.
(function () {
  "use strict";
  if (window.__sandboxReload) return;
  window.__sandboxReload = true;

  var OVERLAY_ID = "__sandbox_overlay";
  // origin + "\n" + file → {origin, file, line, column, message}
  var failures = {};
  // Dismissed by the user: stays hidden until a new failure arrives.
  var dismissed = false;

  var RESET = "all:initial;box-sizing:border-box;display:block;";
  var MONO = "font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,'Liberation Mono',monospace;";
  var SANS = "font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;";

  function node(tag, css, text) {
    var e = document.createElement(tag);
    e.style.cssText = RESET + (css || "");
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function key(ev) { return (ev.origin || "") + "\n" + ev.file; }

  function where(f) {
    return f.file + (f.line ? ":" + f.line + ":" + (f.column || 1) : "");
  }

  function render() {
    var old = document.getElementById(OVERLAY_ID);
    var keys = Object.keys(failures);
    if (!keys.length || dismissed) {
      if (old) old.remove();
      return;
    }
    var box = node("div",
      "position:fixed;left:16px;right:16px;bottom:16px;z-index:2147483647;max-height:60vh;" +
      "overflow:auto;background:#1f1113;color:#ffe3e3;border:1px solid #ff6b6b;border-left:6px solid #ff6b6b;" +
      "border-radius:8px;box-shadow:0 8px 30px rgba(0,0,0,.35);padding:14px 48px 14px 16px;" +
      SANS + "font-size:14px;line-height:1.45;text-align:left;");
    box.id = OVERLAY_ID;
    // role=alert: screen readers announce it as it appears, without moving focus.
    box.setAttribute("role", "alert");
    box.setAttribute("aria-live", "assertive");
    box.dataset.file = failures[keys[0]].file;
    box.dataset.files = keys.map(function (k) { return failures[k].file; }).join(" ");

    var close = node("button",
      "position:absolute;top:8px;right:8px;width:30px;height:30px;cursor:pointer;border-radius:6px;" +
      "background:transparent;color:#ffe3e3;border:1px solid rgba(255,227,227,.35);" +
      SANS + "font-size:18px;line-height:26px;text-align:center;", "\u00d7");
    close.type = "button";
    close.className = "__sandbox_overlay_close";
    close.setAttribute("aria-label", "Dismiss the sandbox reload error");
    close.title = "Dismiss (Esc)";
    close.addEventListener("click", dismiss);
    box.appendChild(close);

    keys.forEach(function (k, i) {
      var f = failures[k];
      var part = node("section", i ? "margin-top:12px;padding-top:12px;border-top:1px solid rgba(255,107,107,.35);" : "");
      part.className = "__sandbox_overlay_failure";
      part.dataset.file = f.file;
      var title = node("div", "font-weight:700;font-size:15px;color:#fff;" + SANS,
        "sandbox: " + f.file + " did not load");
      var loc = node("div", MONO + "font-size:13px;color:#ffb3b3;margin-top:2px;",
        (f.origin ? f.origin + " \u00b7 " : "") + where(f));
      loc.className = "__sandbox_overlay_where";
      var msg = node("pre", MONO + "font-size:13px;white-space:pre-wrap;word-break:break-word;" +
        "background:rgba(0,0,0,.3);color:#ffe3e3;padding:8px 10px;border-radius:6px;margin-top:8px;", f.message);
      msg.className = "__sandbox_overlay_message";
      var hint = node("div", SANS + "font-size:12.5px;color:#ffcaca;margin-top:6px;",
        "The last good version is still in force. Fix the file and save: this goes away when it loads.");
      part.appendChild(title);
      part.appendChild(loc);
      part.appendChild(msg);
      part.appendChild(hint);
      box.appendChild(part);
    });
    if (old) old.replaceWith(box);
    else (document.body || document.documentElement).appendChild(box);
  }

  function dismiss() {
    dismissed = true;
    render();
  }

  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && document.getElementById(OVERLAY_ID)) dismiss();
  });

  function failed(ev) {
    failures[key(ev)] = ev;
    dismissed = false;
    render();
  }

  function loaded(ev) {
    if (ev.file === undefined) {
      failures = {};
    } else {
      delete failures[key(ev)];
    }
    render();
  }

  function swapStylesheets() {
    var links = document.querySelectorAll('link[rel="stylesheet"]');
    for (var i = 0; i < links.length; i++) {
      var url = new URL(links[i].href, location.href);
      url.searchParams.set("__sandbox", Date.now().toString(36));
      links[i].href = url.toString();
    }
  }

  function dispatch(type, detail) {
    window.dispatchEvent(new CustomEvent("sandbox:" + type, { detail: detail }));
  }

  function connect() {
    var es = new EventSource("/__sandbox/events");
    es.onopen = function () {
      // Lets a test (or a curious developer) tell that the page is listening.
      window.__sandboxLive = true;
      dispatch("connected", {});
    };
    es.onerror = function () {
      window.__sandboxLive = false;
      dispatch("disconnected", {});
    };
    es.onmessage = function (msg) {
      var ev;
      try { ev = JSON.parse(msg.data); } catch (e) { return; }
      dispatch(ev.type, ev);
      if (ev.type === "static-changed") {
        // A page may opt out of full reloads (the inspector keeps its state).
        if (ev.css_only) swapStylesheets();
        else if (!document.documentElement.hasAttribute("data-sandbox-no-reload")) location.reload();
      } else if (ev.type === "reload-failed") {
        console.error("sandbox: " + where(ev) + ": " + ev.message);
        failed(ev);
      } else if (ev.type === "reloaded") {
        console.info("sandbox: " + ev.origin + " " + ev.file + " reloaded (generation " + ev.generation + ")");
        loaded(ev);
      }
    };
  }
  connect();
})();
