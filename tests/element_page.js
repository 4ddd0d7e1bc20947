// Loads `url` the way element kind `kind` does and settles once it loaded or failed:
// {ok, error}. Nothing here reads the response: an element load that CORS refuses only fires
// an error event, so that is the outcome script can see.
window.__load = function (kind, url) {
  return new Promise(function (resolve) {
    var done = function (ok, error) { resolve({ ok: ok, status: ok ? 200 : null, headers: [], error: error || null, stage: ok ? null : "fetch" }); };
    var wait = function (el) {
      el.addEventListener("load", function () { done(true); });
      el.addEventListener("error", function () { done(false, "error event"); });
    };
    if (kind === "font") {
      var face = new FontFace("F" + Math.random().toString(36).slice(2), "url(" + JSON.stringify(url) + ")");
      var style = document.createElement("style");
      style.textContent = "@font-face { font-family: '" + face.family + "'; src: url(" + JSON.stringify(url) + "); } .t { font-family: '" + face.family + "'; }";
      document.head.appendChild(style);
      var span = document.createElement("span"); span.className = "t"; span.textContent = "x"; document.body.appendChild(span);
      document.fonts.load("16px '" + face.family + "'").then(function (list) {
        var f = Array.from(document.fonts).find(function (x) { return x.family.replace(/['"]/g, "") === face.family; });
        done(f && f.status === "loaded", f ? "font status " + f.status : "no font");
      }, function (e) { done(false, String(e)); });
    } else if (kind === "script") {
      var s = document.createElement("script"); s.type = "module"; s.src = url; wait(s); document.head.appendChild(s);
    } else if (kind === "image" || kind === "image-credentials") {
      var i = document.createElement("img"); i.crossOrigin = kind === "image" ? "anonymous" : "use-credentials"; wait(i); i.src = url; document.body.appendChild(i);
    } else if (kind === "preload") {
      var l = document.createElement("link"); l.rel = "preload"; l.as = "font"; l.crossOrigin = "anonymous"; wait(l); l.href = url; document.head.appendChild(l);
    } else if (kind === "eventsource" || kind === "eventsource-credentials") {
      var es = new EventSource(url, { withCredentials: kind === "eventsource-credentials" });
      es.onmessage = function () { es.close(); done(true); };
      es.onerror = function () { es.close(); done(false, "error event"); };
    } else { done(false, "unknown kind " + kind); }
  });
};
window.__run = function (spec) { return window.__load(spec.kind, spec.url); };
