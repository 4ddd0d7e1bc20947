// sandbox request inspector (/__sandbox/ on every static origin).
// Fed by /__sandbox/requests (the journal's ring, oldest first) and then live by the
// `sandbox:request` events that /__sandbox/reload.js re-dispatches from the same-origin event
// stream; the policy and routes in force and the reload history come from /__sandbox/in-force,
// fetched again after every reload attempt. Everything is rendered with textContent: header
// values come from whoever sent the request.
(function () {
  "use strict";

  // As many as the server's ring keeps; older entries drop off here too.
  var MAX_ENTRIES = 200;
  // A preflight and its actual request are paired only when this close in time (seconds).
  var PAIR_WINDOW = 30;

  var entries = {}; // id → entry
  var clearedBelow = 0; // "Clear view" hides ids up to this one
  var selectedKey = null; // group key: the id of its first entry
  var groupsByKey = {};

  // From /__sandbox/dom.js.
  var $ = SandboxDom.$, el = SandboxDom.el, replace = SandboxDom.replace;
  var headerTable = SandboxDom.headerTable;
  // A group is an exchange {preflight, actual}. Called without `credentialed`: the inspector
  // cannot know a request's credentials mode, so it goes by the verdicts as the API judged them.
  var verdictOf = SandboxDom.verdictOf;
  // The engine this inspector runs in: its badge is marked.
  var HERE = SandboxDom.currentEngine();

  // How the inspector's header tables look (dom.js headerTable): visible captions, CORS
  // headers marked.
  var TABLE_LOOK = { hot: SandboxDom.isCorsHeader, emptyClass: "muted", emptyText: "(none)" };

  function pad(n, w) { n = String(n); while (n.length < w) n = "0" + n; return n; }
  function clock(at) {
    var d = new Date(at * 1000);
    return pad(d.getHours(), 2) + ":" + pad(d.getMinutes(), 2) + ":" + pad(d.getSeconds(), 2) + "." + pad(d.getMilliseconds(), 3);
  }

  function header(e, name) {
    name = name.toLowerCase();
    var list = e.request_headers || [];
    for (var i = 0; i < list.length; i++) if (list[i][0].toLowerCase() === name) return list[i][1];
    return null;
  }

  function target(e) { return e.path + (e.query ? "?" + e.query : ""); }

  // ── data ─────────────────────────────────────────────────────────────────────────────────

  function add(e) {
    if (!e || typeof e.id !== "number" || e.id <= clearedBelow) return false;
    if (entries[e.id]) return false;
    entries[e.id] = e;
    var ids = Object.keys(entries).map(Number).sort(function (a, b) { return a - b; });
    while (ids.length > MAX_ENTRIES) delete entries[ids.shift()];
    return true;
  }

  // Pairs each preflight with the next request it announced (same API, target, Origin and
  // method), in arrival order. A preflight whose actual request never came stays alone: that
  // is what a blocked preflight looks like.
  function groups() {
    var list = Object.keys(entries).map(function (k) { return entries[k]; }).sort(function (a, b) { return a.id - b.id; });
    var used = {};
    var out = [];
    list.forEach(function (e, i) {
      if (used[e.id]) return;
      used[e.id] = true;
      var g = { key: String(e.id), preflight: null, actual: null };
      if (e.preflight) {
        g.preflight = e;
        var wanted = header(e, "access-control-request-method");
        for (var j = i + 1; j < list.length; j++) {
          var a = list[j];
          if (a.at - e.at > PAIR_WINDOW) break;
          if (used[a.id] || a.preflight) continue;
          if (a.origin_name === e.origin_name && target(a) === target(e) && a.origin === e.origin && a.method === wanted) {
            g.actual = a;
            used[a.id] = true;
            break;
          }
        }
      } else {
        g.actual = e;
      }
      out.push(g);
    });
    return out;
  }

  // ── rendering ────────────────────────────────────────────────────────────────────────────

  // A fault (`fault = "reset"|"close"` in the routes file): the browser got no response.
  var NO_RESPONSE = { reset: "connection reset", close: "connection closed" };

  function noResponseText(e) {
    return "no response: " + (NO_RESPONSE[e.no_response] || e.no_response) +
      " by the sandbox's fault injection — a network error in the browser, not CORS";
  }

  function statusText(e) {
    return e.status == null ? "no response" : String(e.status);
  }

  function verdictCell(v, e) {
    if (e && e.no_response) return el("td", { class: "v bad" }, [
      el("span", { class: "pill bad", text: "network error" }), " ",
      el("span", { class: "muted", text: NO_RESPONSE[e.no_response] || e.no_response })
    ]);
    if (!v) return el("td", { class: "v none" }, [el("span", { class: "muted", text: e && e.origin ? "—" : "no Origin" })]);
    var badges = SandboxDom.engineBadges(e.verdicts, HERE);
    if (v.outcome === "allowed") return el("td", { class: "v ok" }, [el("span", { class: "pill ok", text: "allowed" }), badges ? " " : null, badges]);
    return el("td", { class: "v bad" }, [
      el("span", { class: "pill bad", text: "blocked" }), " ",
      el("code", { class: "cors-error", text: v.cors_error || "" }),
      badges ? " " : null, badges
    ]);
  }

  function row(g, e, role) {
    var v = e.verdict;
    var cells = [
      el("td", { class: "time", text: clock(e.at) }),
      el("td", { class: "req" }, [
        role === "preflight" ? el("span", { class: "tag pre", text: "preflight" }) : null,
        role === "preflight" ? " " : null,
        el("code", { text: e.method + " " + target(e) })
      ]),
      el("td", { class: "from" }, [el("code", { text: e.origin || "—" })]),
      el("td", { class: "status", text: statusText(e) }),
      verdictCell(v, e)
    ];
    var tr = el("tr", {
      class: "entry " + role + (v ? " " + v.outcome : ""),
      "data-entry-id": String(e.id),
      "data-outcome": v ? v.outcome : "none",
      "data-cors-error": v && v.cors_error ? v.cors_error : ""
    }, cells);
    return tr;
  }

  function renderTable() {
    var all = groups();
    groupsByKey = {};
    all.forEach(function (g) { groupsByKey[g.key] = g; });
    var blockedOnly = $("blocked-only").checked;
    var shown = all.filter(function (g) {
      var d = verdictOf(g);
      return !blockedOnly || (d && d.verdict.outcome === "blocked");
    }).reverse();
    var table = $("requests-table");
    Array.prototype.slice.call(table.tBodies).forEach(function (b) { b.remove(); });
    shown.forEach(function (g) {
      var d = verdictOf(g);
      var body = el("tbody", {
        class: "group" + (g.key === selectedKey ? " selected" : ""),
        "data-key": g.key,
        "data-outcome": d ? d.verdict.outcome : "none",
        tabindex: "0",
        "aria-label": describe(g),
        "aria-current": g.key === selectedKey ? "true" : null
      });
      if (g.preflight) body.appendChild(row(g, g.preflight, "preflight"));
      if (g.actual) body.appendChild(row(g, g.actual, g.preflight ? "actual paired" : "actual"));
      if (g.preflight && !g.actual && g.preflight.verdict && g.preflight.verdict.outcome === "blocked") {
        body.appendChild(el("tr", { class: "never" }, [el("td"), el("td", { colspan: "4", class: "muted", text: "actual request never sent" })]));
      }
      body.addEventListener("click", function () { select(g.key); });
      body.addEventListener("keydown", function (ev) {
        if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); select(g.key); }
      });
      table.appendChild(body);
    });
    $("no-requests").hidden = shown.length > 0;
    $("count").textContent = countText(requestCount(shown), requestCount(all), blockedOnly);
    if (selectedKey && !groupsByKey[selectedKey]) selectedKey = null;
    renderDetail();
  }

  // Requests, not groups: a preflight and its actual request are two requests in one row group.
  function requestCount(list) {
    return list.reduce(function (n, g) { return n + (g.preflight ? 1 : 0) + (g.actual ? 1 : 0); }, 0);
  }

  function countText(shown, total, filtered) {
    if (!total) return "";
    var noun = total === 1 ? " request" : " requests";
    return "(" + (filtered ? shown + " of " + total : total) + noun + ")";
  }

  function describe(g) {
    var e = g.actual || g.preflight;
    var d = verdictOf(g), v = d && d.verdict;
    return e.method + " " + target(e) + (g.preflight ? " with preflight" : "") + ": " +
      (v ? v.outcome + (v.cors_error ? " " + v.cors_error : "") : "no verdict");
  }

  function select(key) {
    selectedKey = key;
    Array.prototype.forEach.call($("requests-table").tBodies, function (b) {
      var on = b.dataset.key === key;
      b.classList.toggle("selected", on);
      // aria-current, not aria-selected: a tbody is not a grid row, and this is "the one
      // shown in the detail pane".
      if (on) b.setAttribute("aria-current", "true");
      else b.removeAttribute("aria-current");
    });
    renderDetail();
  }

  function verdictBlock(v, title) {
    if (!v) return null;
    var parts = [el("p", { class: "outcome" }, [
      el("span", { class: "pill " + (v.outcome === "allowed" ? "ok" : "bad"), text: v.outcome }),
      v.cors_error ? " " : null,
      v.cors_error ? el("code", { class: "cors-error", text: v.cors_error }) : null,
      v.failed_parameter ? el("span", { class: "muted", text: " (failed parameter: " + v.failed_parameter + ")" }) : null
    ])];
    if (v.message) parts.push(el("pre", { class: "console", text: v.message }));
    if (v.fix) parts.push(el("p", { class: "fix" }, [el("strong", { text: "Fix: " }), v.fix]));
    return el("div", { class: "verdict-block " + v.outcome }, [el("h4", { text: title })].concat(parts));
  }

  function entryDetail(e, role) {
    return el("article", { class: "entry-detail", "data-entry-id": String(e.id) }, [
      el("h3", null, [
        el("span", { class: "tag " + (role === "preflight" ? "pre" : "act"), text: role }), " ",
        el("code", { text: e.method + " " + target(e) }), " → ", el("code", { text: statusText(e) })
      ]),
      e.no_response ? el("p", { class: "no-response", text: noResponseText(e) }) : null,
      el("p", { class: "muted meta", text: clock(e.at) + " · " + e.origin_name + " · " + e.duration_ms + " ms · policy generation " +
        (e.policy_generation == null ? "?" : e.policy_generation) + " · Origin " + (e.origin || "(none)") }),
      e.verdict ? verdictBlock(e.verdict, "Verdict") : el("p", { class: "muted", text: "No verdict: the request had no Origin (not cross-origin from a browser)." }),
      verdictBlock(e.verdict_if_credentialed, "If the request were credentialed"),
      SandboxDom.engineBlock(e.verdicts, "In each engine", HERE),
      e.verdicts_if_credentialed ? SandboxDom.engineBlock(e.verdicts_if_credentialed, "In each engine, if the request were credentialed", HERE) : null,
      SandboxDom.cookieBlock(e, HERE),
      headerTable(e.request_headers, "Request headers (as received)", TABLE_LOOK),
      headerTable(e.response_headers, "Response headers (as sent)", TABLE_LOOK)
    ]);
  }

  function renderDetail() {
    var g = selectedKey && groupsByKey[selectedKey];
    if (!g) { replace($("detail-body"), [el("p", { class: "empty", text: "Select a request." })]); return; }
    var parts = [];
    if (g.preflight) parts.push(entryDetail(g.preflight, "preflight"));
    if (g.actual) parts.push(entryDetail(g.actual, "actual"));
    else if (g.preflight) parts.push(el("p", { class: "muted", text: "No actual request followed this preflight." }));
    replace($("detail-body"), parts);
  }

  function fileBlock(kind, f, extra) {
    var head = el("p", { class: "file-line" }, [
      el("strong", { text: kind + " " }), el("code", { text: f.file }),
      " · generation ", el("code", { class: "generation", text: String(f.generation) }),
      extra ? " · " + extra : null
    ]);
    var parts = [head];
    if (f.warnings && f.warnings.length) {
      parts.push(el("ul", { class: "warnings" }, f.warnings.map(function (w) {
        return el("li", { text: typeof w === "string" ? w : (w.message || JSON.stringify(w)) });
      })));
    }
    parts.push(el("details", null, [el("summary", { text: "Show the text in force" }), el("pre", { text: f.text || "" })]));
    return el("div", { class: "file-block" }, parts);
  }

  function renderInForce(f) {
    replace($("in-force-body"), f.apis.length ? f.apis.map(function (a) {
      return el("div", { class: "api-block", "data-api": a.name }, [
        el("h3", null, [a.name + " ", el("code", { class: "muted", text: a.url })]),
        fileBlock("Policy", a.policy, a.policy.mode + " mode"),
        fileBlock("Routes", a.routes, a.routes.count + " routes")
      ]);
    }) : [el("p", { class: "empty", text: "No API origin." })]);
    var h = f.reloads.slice().reverse();
    replace($("history-body"), h.length ? [el("table", { class: "history-table" }, [
      el("caption", { class: "visually-hidden", text: "Reload attempts, newest first" }),
      el("thead", null, [el("tr", null, ["Time", "Origin", "File", "Generation", "Result"].map(function (t) { return el("th", { scope: "col", text: t }); }))]),
      el("tbody", null, h.map(function (r) {
        return el("tr", { class: r.ok ? "ok" : "bad" }, [
          // at_ms: the same millisecond clock as the requests (at is whole seconds).
          el("td", { class: "time", text: clock(r.at_ms != null ? r.at_ms / 1000 : r.at) }),
          el("td", { text: r.origin }),
          el("td", null, [el("code", { text: r.file })]),
          el("td", { text: String(r.generation) }),
          el("td", null, r.ok ? [el("span", { class: "pill ok", text: "loaded" })]
            : [el("span", { class: "pill bad", text: "failed" }), " ", el("span", { class: "error", text: r.error || "" })])
        ]);
      }))
    ])] : [el("p", { class: "empty", text: "No reloads yet: edit the policy or routes file and save." })]);
  }

  // ── feeds ────────────────────────────────────────────────────────────────────────────────

  // The journal answers only pages opened from the URL `sandbox up` printed (it carries the
  // run's key, kept as a cookie); say so instead of showing an empty table.
  function keyed(r) {
    if (r.status === 403) {
      setConn("down", "locked: open the inspector from the URL `sandbox up` printed (it carries this run's key)");
      throw new Error("no key");
    }
    return r.json();
  }

  function loadRequests() {
    return fetch("/__sandbox/requests", { cache: "no-store" }).then(keyed).then(function (list) {
      list.forEach(add);
      renderTable();
    }).catch(function () {});
  }

  function loadInForce() {
    return fetch("/__sandbox/in-force", { cache: "no-store" }).then(keyed).then(renderInForce).catch(function () {});
  }

  function setConn(state, text) {
    $("conn").dataset.state = state;
    $("conn").textContent = text;
  }

  window.addEventListener("sandbox:request", function (ev) {
    if (ev.detail && add(ev.detail.entry)) renderTable();
  });
  window.addEventListener("sandbox:reloaded", loadInForce);
  window.addEventListener("sandbox:reload-failed", loadInForce);
  // After a drop, entries may have been missed: the ring has them.
  window.addEventListener("sandbox:connected", function () {
    setConn("live", "live");
    loadRequests();
    loadInForce();
  });
  window.addEventListener("sandbox:disconnected", function () { setConn("down", "disconnected — retrying"); });
  $("blocked-only").addEventListener("change", renderTable);
  $("clear").addEventListener("click", function () {
    Object.keys(entries).forEach(function (k) { clearedBelow = Math.max(clearedBelow, Number(k)); });
    entries = {};
    selectedKey = null;
    renderTable();
  });

  loadRequests();
  loadInForce();
})();
