// sandbox live reload: injected into every HTML page of a static origin.
// Listens to /__sandbox/events (same origin) and reloads the page, swaps stylesheets, or shows
// an overlay when a policy or routes file fails to load.
(function () {
  "use strict";
  if (window.__sandboxReload) return;
  window.__sandboxReload = true;

  var OVERLAY_ID = "__sandbox_overlay";

  function showOverlay(ev) {
    var box = document.getElementById(OVERLAY_ID);
    if (!box) {
      box = document.createElement("div");
      box.id = OVERLAY_ID;
      box.setAttribute("role", "alert");
      box.style.cssText =
        "position:fixed;left:0;right:0;bottom:0;z-index:2147483647;max-height:50vh;overflow:auto;" +
        "background:#2b0b0e;color:#ffd7d7;font:13px/1.5 ui-monospace,Menlo,Consolas,monospace;" +
        "padding:12px 16px;border-top:3px solid #ff5c5c;white-space:pre-wrap";
      (document.body || document.documentElement).appendChild(box);
    }
    var where = ev.file + (ev.line ? ":" + ev.line + ":" + (ev.column || 1) : "");
    box.textContent = "sandbox: " + where + " did not load, the last good version is still in force\n" + ev.message;
    box.dataset.file = ev.file;
  }

  function hideOverlay(file) {
    var box = document.getElementById(OVERLAY_ID);
    if (box && (!file || box.dataset.file === file)) box.remove();
  }

  function swapStylesheets() {
    var links = document.querySelectorAll('link[rel="stylesheet"]');
    for (var i = 0; i < links.length; i++) {
      var url = new URL(links[i].href, location.href);
      url.searchParams.set("__sandbox", Date.now().toString(36));
      links[i].href = url.toString();
    }
  }

  function connect() {
    var es = new EventSource("/__sandbox/events");
    es.onmessage = function (msg) {
      var ev;
      try { ev = JSON.parse(msg.data); } catch (e) { return; }
      window.dispatchEvent(new CustomEvent("sandbox:" + ev.type, { detail: ev }));
      if (ev.type === "static-changed") {
        if (ev.css_only) swapStylesheets(); else location.reload();
      } else if (ev.type === "reload-failed") {
        console.error("sandbox: " + ev.file + (ev.line ? ":" + ev.line + ":" + ev.column : "") + ": " + ev.message);
        showOverlay(ev);
      } else if (ev.type === "reloaded") {
        console.info("sandbox: " + ev.origin + " " + ev.file + " reloaded (generation " + ev.generation + ")");
        hideOverlay(ev.file);
      }
    };
  }
  connect();
})();
