// sandbox CORS lab: compose a request, send it with fetch() from this (frontend) origin, and
// show side by side what the page saw, what the API received and answered, and the verdict
// sandbox's model of Chromium computed for the request the API received.
//
// ─── The lab URL format (version 1) ────────────────────────────────────────────────────────
// The whole form lives in the query string of the lab page's own URL, so a state can be shared
// as a link, and `sandbox fixtures new NAME --from-lab 'URL'` can turn it into a fixture
// request. Parameters (all optional; a parameter equal to its default is left out; unknown
// parameters are ignored; values are application/x-www-form-urlencoded as URLSearchParams
// writes them, so `+` is a space and `%2F` a slash):
//
//   api=NAME          the API origin's name (`apis[].name` in /__sandbox/config.json, i.e.
//                     `name` in sandbox.toml). Default: the first API origin.
//   method=M          the request method, exactly as typed. Default: GET.
//   path=/P?Q         path (and query) on the API origin; always starts with `/`.
//                     Default: /api/student.
//   h=Name: value     one request header; repeat `h` for more, in order. Split at the first
//                     `:`; spaces after the colon are dropped. Empty names are never written.
//   body=TEXT         the request body. Absent: no body (an empty body is also "none").
//   credentials=C     omit | same-origin | include (fetch's `credentials`). Default: same-origin.
//   mode=M            cors | no-cors | same-origin (fetch's `mode`). Default: cors.
//                     fixture.toml has no mode: a fixture only reproduces `cors`.
//   preset=ID         informational: the preset the state started from (a name suggestion).
//   policy=TEXT       the text of the API's policy in force when the link was made. Only the
//                     "Make a fixture" command carries it (the fixture's buggy cors.toml); the
//                     lab ignores it, since a page cannot change the API's policy.
//   answer=Name: v    one Access-Control-* line the API sent past its policy (a route with
//                     cors = "route"); repeated, in order. Only in the "Make a fixture" command,
//                     and only when the request was sent in this state: the fixture's buggy
//                     cors.toml then sends these lines (exact mode) instead of `policy`.
//
// Example:
//   http://localhost:8080/?method=PUT&path=%2Fapi%2Fpayment&h=Content-Type%3A+application%2Fjson
//     &h=X-PKR-Auth%3A+demo-token&body=%7B%22amount_pkr%22%3A2500%7D&credentials=include
// maps to the fixture request
//   method = "PUT", path = "/api/payment",
//   headers = { "Content-Type" = "application/json", "X-PKR-Auth" = "demo-token" },
//   body = '{"amount_pkr":2500}', credentials = "include"
//
// When sending, the lab appends `lab=<nonce>` to the request's query; the API's journal keeps
// each request's query, so the lab finds exactly its own preflight and actual request in
// /__sandbox/requests and the `sandbox:request` events. The nonce is never part of the lab URL.
// ───────────────────────────────────────────────────────────────────────────────────────────
(function () {
  "use strict";

  var DEFAULTS = { api: "", method: "GET", path: "/api/student", credentials: "same-origin", mode: "cors", loadAs: "fetch" };
  var LOADS = ["fetch", "font", "script", "image", "preload", "eventsource"];

  // The tutorial's cases, against the embedded default API and policy (which allows this
  // origin, GET/POST/PUT/PATCH/DELETE, Content-Type/Authorization/X-PKR-Auth, exposes
  // X-Total-Count, with credentials). `note` says what to expect and what to try. A preset
  // named after a bug shows that bug against the default API: where the policy cannot send
  // it (actix-cors never sends `*` with credentials), a default route sends it instead.
  var PRESETS = [
    {
      id: "simple-get", label: "Simple GET",
      state: { method: "GET", path: "/api/student", headers: [] },
      note: "A simple request: no preflight. The API's Access-Control-Allow-Origin decides whether the page may read the answer."
    },
    {
      id: "blocked-get", label: "Blocked GET (X-Other)",
      state: { method: "GET", path: "/api/student", headers: [["X-Other", "1"]] },
      note: "A custom header the policy does not allow: the preflight fails and the GET is never sent."
    },
    {
      id: "wildcard-credentials", label: "Wildcard + credentials",
      state: { method: "GET", path: "/api/wildcard", headers: [], credentials: "include" },
      note: "credentials: include, and /api/wildcard answers Access-Control-Allow-Origin: * with Allow-Credentials: true (a route that sets its own CORS headers, cors = \"route\" in the default routes). Chromium blocks it as WildcardOriginNotAllowed: with credentials the server must echo the page's origin. The same GET of /api/student passes, since the default policy echoes it."
    },
    {
      id: "pkr-auth-put", label: "PUT with X-PKR-Auth",
      state: {
        method: "PUT", path: "/api/payment",
        headers: [["Content-Type", "application/json"], ["X-PKR-Auth", "demo-token"]],
        body: "{\"amount_pkr\":2500}"
      },
      note: "A custom auth header with PUT: preflighted. Remove X-PKR-Auth from allowed_headers in the policy to see it blocked."
    },
    {
      id: "preflighted-put", label: "Preflighted PUT",
      state: {
        method: "PUT", path: "/api/payment",
        headers: [["Content-Type", "application/json"]], body: "{\"amount_pkr\":2500}"
      },
      note: "PUT is not a simple method and application/json not a simple Content-Type: the browser asks first with OPTIONS."
    },
    {
      id: "total-count", label: "Read X-Total-Count",
      state: { method: "GET", path: "/api/students", headers: [] },
      note: "The page can read X-Total-Count only because the policy exposes it (expose_headers)."
    },
    {
      id: "delete", label: "DELETE a student",
      state: { method: "DELETE", path: "/api/students/7", headers: [] },
      note: "DELETE is preflighted; the API answers 204 with no body."
    },
    {
      id: "slow", label: "Slow answer",
      state: { method: "GET", path: "/api/slow", headers: [] },
      note: "The API waits 1.5 s before answering."
    }
  ];

  var config = null; // /__sandbox/config.json
  var policyInForce = null; // {api, text}: the selected API's policy, from /__sandbox/in-force
  var presetId = "";
  var current = null; // the request in flight or last sent: {nonce, state, entries: Map}

  // From /__sandbox/dom.js.
  var $ = SandboxDom.$, el = SandboxDom.el, replace = SandboxDom.replace;
  var headerTable = SandboxDom.headerTable, isCorsHeader = SandboxDom.isCorsHeader;
  var verdictOf = SandboxDom.verdictOf;

  // ── form state ⇄ URL ─────────────────────────────────────────────────────────────────────

  function readForm() {
    var headers = [];
    document.querySelectorAll("#header-rows .header-row").forEach(function (row) {
      var n = row.querySelector(".h-name").value.trim();
      var v = row.querySelector(".h-value").value;
      if (n) headers.push([n, v]);
    });
    return {
      api: $("api").value,
      method: $("method").value.trim() || "GET",
      path: normalisePath($("path").value),
      headers: headers,
      body: $("body").value,
      credentials: $("credentials").value,
      mode: $("mode").value,
      loadAs: $("load-as").value
    };
  }

  function normalisePath(p) {
    p = (p || "").trim();
    if (!p) return DEFAULTS.path;
    return p.charAt(0) === "/" ? p : "/" + p;
  }

  function fillForm(s) {
    if (s.api && Array.prototype.some.call($("api").options, function (o) { return o.value === s.api; })) {
      $("api").value = s.api;
    }
    $("method").value = s.method || DEFAULTS.method;
    $("path").value = s.path || DEFAULTS.path;
    replace($("header-rows"), []);
    (s.headers || []).forEach(function (h) { addHeaderRow(h[0], h[1]); });
    $("body").value = s.body || "";
    $("credentials").value = s.credentials || DEFAULTS.credentials;
    $("mode").value = s.mode || DEFAULTS.mode;
    $("load-as").value = s.loadAs || DEFAULTS.loadAs;
    updateDerived();
  }

  function stateToQuery(s) {
    var q = new URLSearchParams();
    var firstApi = config && config.apis.length ? config.apis[0].name : "";
    if (s.api && s.api !== firstApi) q.set("api", s.api);
    if (s.method !== DEFAULTS.method) q.set("method", s.method);
    if (s.path !== DEFAULTS.path) q.set("path", s.path);
    s.headers.forEach(function (h) { q.append("h", h[0] + ": " + h[1]); });
    if (s.body) q.set("body", s.body);
    if (s.credentials !== DEFAULTS.credentials) q.set("credentials", s.credentials);
    if (s.mode !== DEFAULTS.mode) q.set("mode", s.mode);
    if (s.loadAs !== DEFAULTS.loadAs) q.set("as", s.loadAs);
    if (presetId) q.set("preset", presetId);
    return q.toString();
  }

  function queryToState(search) {
    var q = new URLSearchParams(search);
    presetId = q.get("preset") || "";
    return {
      api: q.get("api") || "",
      method: q.get("method") || DEFAULTS.method,
      path: normalisePath(q.get("path") || DEFAULTS.path),
      headers: q.getAll("h").map(function (line) {
        var i = line.indexOf(":");
        return i < 0 ? [line.trim(), ""] : [line.slice(0, i).trim(), line.slice(i + 1).replace(/^ +/, "")];
      }).filter(function (h) { return h[0]; }),
      body: q.get("body") || "",
      credentials: oneOf(q.get("credentials"), ["omit", "same-origin", "include"], DEFAULTS.credentials),
      mode: oneOf(q.get("mode"), ["cors", "no-cors", "same-origin"], DEFAULTS.mode),
      loadAs: oneOf(q.get("as"), LOADS, DEFAULTS.loadAs)
    };
  }

  function oneOf(v, allowed, dflt) { return allowed.indexOf(v) >= 0 ? v : dflt; }

  function labUrl(s) {
    var q = stateToQuery(s);
    return location.origin + location.pathname + (q ? "?" + q : "");
  }

  function updateDerived() {
    var s = readForm();
    var url = labUrl(s);
    if (url !== location.href) history.replaceState(null, "", url);
    $("fetch-code").textContent = s.loadAs === "fetch" ? fetchCode(s) : elementCode(s);
    // An element's load has no method, headers, body or mode of the page's choosing.
    var element = s.loadAs !== "fetch";
    // A fixture page makes fetch() requests only (`fixtures new --from-lab` says so too).
    ["method", "body", "mode", "add-header", "make-fixture"].forEach(function (id) { $(id).disabled = element; });
    document.querySelectorAll("#header-rows input, #header-rows button").forEach(function (x) { x.disabled = element; });
    $("send").textContent = element ? "Load with " + LOAD_TEXT[s.loadAs] : "Send with fetch()";
    var api = apiByName(s.api);
    $("api-origin").textContent = api ? api.url : "(no API origin)";
    if (!$("fixture-box").hidden) $("fixture-command").value = fixtureCommand(s);
  }

  function apiByName(name) {
    if (!config) return null;
    for (var i = 0; i < config.apis.length; i++) if (config.apis[i].name === name) return config.apis[i];
    return config.apis[0] || null;
  }

  var LOAD_TEXT = {
    font: "@font-face", script: "<script type=\"module\">", image: "<img crossorigin>",
    preload: "<link rel=\"preload\" as=\"font\" crossorigin>", eventsource: "EventSource"
  };

  // The element's credentials: `include` is crossorigin="use-credentials" or withCredentials.
  function elementCode(s) {
    var api = apiByName(s.api);
    var url = (api ? api.url : "") + s.path;
    var cred = s.credentials === "include";
    switch (s.loadAs) {
      case "font": return "@font-face { font-family: \"Lab\"; src: url(" + JSON.stringify(url) + "); }";
      case "script": return "<script type=\"module\"" + (cred ? " crossorigin=\"use-credentials\"" : "") + " src=" + JSON.stringify(url) + "></script>";
      case "image": return "<img crossorigin=\"" + (cred ? "use-credentials" : "anonymous") + "\" src=" + JSON.stringify(url) + ">";
      case "preload": return "<link rel=\"preload\" as=\"font\" crossorigin=\"" + (cred ? "use-credentials" : "anonymous") + "\" href=" + JSON.stringify(url) + ">";
      default: return "new EventSource(" + JSON.stringify(url) + (cred ? ", { withCredentials: true }" : "") + ")";
    }
  }

  // Loads `url` as the element would and settles once it loaded or failed. A refused load
  // tells script nothing but an `error` event, so that is all the page learns.
  function loadAsElement(kind, url, credentials) {
    var cred = credentials === "include";
    return new Promise(function (resolve) {
      var settle = function (ok, error) {
        resolve(ok ? { ok: true, element: kind, status: null, type: "element", headers: [], body: "" }
          : { ok: false, element: kind, error: error });
      };
      var watch = function (node) {
        node.addEventListener("load", function () { node.remove(); settle(true); });
        node.addEventListener("error", function () { node.remove(); settle(false, "error event on " + LOAD_TEXT[kind]); });
      };
      if (kind === "font") {
        var face = new FontFace("Lab" + nonce(), "url(" + JSON.stringify(url) + ")");
        face.load().then(function () { settle(true); }, function (e) { settle(false, e.name + ": " + e.message); });
      } else if (kind === "script") {
        var sc = document.createElement("script");
        sc.type = "module";
        if (cred) sc.crossOrigin = "use-credentials";
        watch(sc); sc.src = url; document.head.appendChild(sc);
      } else if (kind === "image") {
        var img = document.createElement("img");
        img.crossOrigin = cred ? "use-credentials" : "anonymous";
        watch(img); img.src = url;
      } else if (kind === "preload") {
        var l = document.createElement("link");
        l.rel = "preload"; l.as = "font"; l.crossOrigin = cred ? "use-credentials" : "anonymous";
        watch(l); l.href = url; document.head.appendChild(l);
      } else {
        var es = new EventSource(url, { withCredentials: cred });
        es.onopen = function () { es.close(); settle(true); };
        es.onerror = function () { es.close(); settle(false, "error event on EventSource"); };
      }
    });
  }

  function fetchCode(s) {
    var api = apiByName(s.api);
    var init = [];
    if (s.method !== "GET") init.push("  method: " + JSON.stringify(s.method));
    if (s.headers.length) {
      init.push("  headers: {\n" + s.headers.map(function (h) {
        return "    " + JSON.stringify(h[0]) + ": " + JSON.stringify(h[1]);
      }).join(",\n") + "\n  }");
    }
    if (s.body) init.push("  body: " + JSON.stringify(s.body));
    if (s.credentials !== DEFAULTS.credentials) init.push("  credentials: " + JSON.stringify(s.credentials));
    if (s.mode !== DEFAULTS.mode) init.push("  mode: " + JSON.stringify(s.mode));
    var url = JSON.stringify((api ? api.url : "") + s.path);
    return "fetch(" + url + (init.length ? ", {\n" + init.join(",\n") + "\n}" : "") + ")";
  }

  function fixtureName() {
    var base = presetId || "lab-request";
    return base.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "") || "lab-request";
  }

  function fixtureCommand(s) {
    // The policy that showed the problem goes along, to become the fixture's buggy policy;
    // so do the CORS lines of an answer that policy did not make.
    var url = labUrl(s);
    var api = apiByName(s.api);
    var extra = new URLSearchParams();
    if (policyInForce && api && policyInForce.api === api.name) extra.set("policy", policyInForce.text);
    answerPastPolicy(s).forEach(function (line) { extra.append("answer", line); });
    var more = extra.toString();
    if (more) url += (url.indexOf("?") >= 0 ? "&" : "?") + more;
    // URLSearchParams percent-encodes `'`, so single quotes are safe around the URL.
    return "sandbox fixtures new " + fixtureName() + " --from-lab '" + url + "'";
  }

  // The Access-Control-* lines the API sent for the request last sent in this very state, when
  // its policy did not answer it (no policy generation in the journal: a route with
  // cors = "route", or an upstream with cors = "upstream"). Empty otherwise.
  function answerPastPolicy(s) {
    if (!current || !current.settled || labUrl(current.state) !== labUrl(s)) return [];
    var x = exchange();
    var e = x.actual || x.preflight;
    if (!e || e.policy_generation != null) return [];
    return (e.response_headers || []).filter(function (h) { return /^access-control-/i.test(h[0]); })
      .map(function (h) { return h[0] + ": " + h[1]; });
  }

  // ── header rows ──────────────────────────────────────────────────────────────────────────

  var rowCount = 0;
  function addHeaderRow(name, value) {
    rowCount++;
    var nameId = "h-name-" + rowCount, valueId = "h-value-" + rowCount;
    var name_ = el("input", { id: nameId, class: "h-name", spellcheck: "false", placeholder: "Header-Name" });
    var value_ = el("input", { id: valueId, class: "h-value", spellcheck: "false", placeholder: "value" });
    name_.value = name || "";
    value_.value = value || "";
    var remove = el("button", { type: "button", class: "small remove", "aria-label": "Remove this header", text: "×" });
    var row = el("div", { class: "header-row" }, [
      el("label", { for: nameId, class: "visually-hidden", text: "Header name" }), name_,
      el("label", { for: valueId, class: "visually-hidden", text: "Header value" }), value_,
      remove
    ]);
    remove.addEventListener("click", function () { row.remove(); formChanged(); });
    $("header-rows").appendChild(row);
    return row;
  }

  function formChanged() {
    updateDerived();
    // Another API chosen: show (and record for a fixture) that API's policy.
    var api = apiByName($("api").value);
    if (policyInForce && api && policyInForce.api !== api.name) loadPolicy();
  }

  // ── sending ──────────────────────────────────────────────────────────────────────────────

  function nonce() {
    var a = new Uint32Array(2);
    crypto.getRandomValues(a);
    return a[0].toString(36) + a[1].toString(36);
  }

  function send(ev) {
    if (ev) ev.preventDefault();
    var s = readForm();
    updateDerived();
    var api = apiByName(s.api);
    if (!api) {
      $("form-status").textContent = "This sandbox has no API origin to send to.";
      return;
    }
    var n = nonce();
    var url = api.url + s.path + (s.path.indexOf("?") >= 0 ? "&" : "?") + "lab=" + n;
    current = { nonce: n, state: s, api: api, entries: {}, page: null, sentAt: Date.now() };
    var mine = current;
    $("results").setAttribute("aria-busy", "true");
    $("send").disabled = true;
    $("form-status").textContent = "Sending " + s.method + " " + s.path + " …";
    renderAll();

    // No `cache` option: Chromium would add Cache-Control/Pragma request headers the user did
    // not write, and they would show up in "what the API received".
    var init = { method: s.method, credentials: s.credentials, mode: s.mode };
    var outcome;
    if (s.loadAs !== "fetch") {
      outcome = loadAsElement(s.loadAs, url, s.credentials);
    } else try {
      var h = new Headers();
      s.headers.forEach(function (x) { h.append(x[0], x[1]); });
      init.headers = h;
      if (s.body) init.body = s.body;
      outcome = fetch(url, init).then(function (res) {
        var headers = [];
        res.headers.forEach(function (v, k) { headers.push([k, v]); });
        return res.text().then(function (text) {
          return { ok: true, status: res.status, statusText: res.statusText, type: res.type, headers: headers, body: text };
        }, function (e) {
          return { ok: true, status: res.status, statusText: res.statusText, type: res.type, headers: headers, body: "", bodyError: String(e) };
        });
      }, function (e) {
        return { ok: false, error: e.name + ": " + e.message };
      });
    } catch (e) {
      // new Headers() and fetch() throw synchronously for malformed names, values or init.
      outcome = Promise.resolve({ ok: false, error: e.name + ": " + e.message, beforeSending: true });
    }
    outcome.then(function (page) {
      if (current !== mine) return;
      mine.page = page;
      $("send").disabled = false;
      $("form-status").textContent = "";
      // The API journals a request before its response leaves, so by now every entry of this
      // exchange is listed; the live events keep filling in anything later.
      return fetch("/__sandbox/requests", { cache: "no-store" }).then(function (r) {
        // The journal needs the run's key, which the URL `sandbox up` printed carries.
        if (r.status === 403) $("form-status").textContent = "The verdict needs the journal: open the lab from the URL `sandbox up` printed (it carries this run's key).";
        return r.json();
      })
        .then(function (list) { list.forEach(noteEntry); })
        .catch(function () {});
    }).then(function () {
      if (current !== mine) return;
      mine.settled = true;
      $("results").setAttribute("aria-busy", "false");
      renderAll();
      // On a narrow window the results are below the form: bring the verdict into view.
      if (window.matchMedia("(max-width: 980px)").matches) $("verdict").scrollIntoView({ block: "start" });
    });
  }

  function entryNonce(e) {
    if (!e.query) return null;
    return new URLSearchParams(e.query).get("lab");
  }

  function noteEntry(e) {
    if (!current || entryNonce(e) !== current.nonce) return;
    current.entries[e.id] = e;
    if (current.settled) renderAll();
  }

  // ── verdicts ─────────────────────────────────────────────────────────────────────────────

  function exchange() {
    var list = Object.keys(current.entries).map(function (k) { return current.entries[k]; })
      .sort(function (a, b) { return a.id - b.id; });
    return {
      preflight: list.filter(function (e) { return e.preflight; })[0] || null,
      actual: list.filter(function (e) { return !e.preflight; })[0] || null
    };
  }

  // The API cannot see the page's credentials mode (see verdictOf in dom.js); the lab knows.
  function credentialed(s) { return s.credentials === "include"; }

  // ── rendering ────────────────────────────────────────────────────────────────────────────

  // How the lab's header tables look (dom.js headerTable): the caption is for screen readers
  // only, since a label or request line above says what the table is; `hot` marks rows.
  function tableLook(hot, emptyText) {
    return { hot: hot, captionClass: "visually-hidden", emptyClass: "empty", emptyText: emptyText || "(no headers)" };
  }

  function renderAll() {
    if (!current) return;
    var s = current.state;
    var x = exchange();
    renderVerdict(x, s);
    renderPage(s, x);
    renderReceived(x, s);
    renderAnswered(x);
  }

  function renderVerdict(x, s) {
    var box = $("verdict");
    var body = $("verdict-body");
    if (!current.page) {
      box.dataset.outcome = "pending";
      box.dataset.corsError = "";
      replace(body, [el("p", { class: "empty", text: "Waiting for the browser…" })]);
      return;
    }
    var o = verdictOf(x, credentialed(s));
    var parts = [];
    if (s.mode === "no-cors") {
      parts.push(el("p", { class: "mode-note", text: "mode: no-cors — the browser makes no CORS check and hands the page an opaque response (status 0, no headers, no body)." +
        (o ? " What follows is the verdict the same request would get in mode cors." : "") }));
    }
    if (!o) {
      var reached = x.preflight || x.actual;
      box.dataset.outcome = reached || current.page.ok ? "none" : "blocked";
      box.dataset.corsError = "";
      var title, why;
      if (reached) {
        title = "No CORS verdict";
        why = "The request reached the API without an Origin header (Chromium sends none with a no-cors GET or HEAD), so there was nothing for CORS to decide.";
      } else if (current.page.beforeSending) {
        title = "Failed before reaching the API";
        why = "fetch() refused the request before sending it: " + current.page.error;
      } else if (s.mode === "same-origin") {
        title = "Failed before reaching the API";
        why = "mode: same-origin forbids a cross-origin request: the browser failed it without sending anything.";
      } else if (!current.page.ok) {
        title = "Failed before reaching the API";
        why = "Nothing reached the API. " + current.page.error + " (the API may be down, or the browser refused the request before sending it).";
      } else {
        title = "No verdict";
        why = "The API has no record of this request.";
      }
      parts.push(el("p", { class: "outcome", text: title }));
      parts.push(el("p", { text: why }));
      replace(body, parts);
      return;
    }
    var v = o.verdict;
    box.dataset.outcome = v.outcome;
    box.dataset.corsError = v.cors_error || "";
    if (v.outcome === "allowed") {
      parts.push(el("p", { class: "outcome" }, [el("span", { class: "badge ok", text: "Allowed" }), " the page may read the response"]));
    } else {
      parts.push(el("p", { class: "outcome" }, [
        el("span", { class: "badge bad", text: "Blocked" }), " at the " + o.stage + ": ",
        el("code", { class: "cors-error", text: v.cors_error || "(no CorsError)" })
      ]));
      if (v.failed_parameter) parts.push(el("p", null, ["Failed parameter: ", el("code", { text: v.failed_parameter })]));
    }
    if (v.message) {
      parts.push(el("p", { class: "label", text: "Console message" }));
      parts.push(el("pre", { class: "console", text: v.message }));
    }
    if (v.fix) {
      parts.push(el("p", { class: "label", text: "Fix" }));
      parts.push(el("p", { class: "fix", text: v.fix }));
    }
    // All three engines, the one this page runs in marked: the verdict above is Chromium's.
    var engines = SandboxDom.enginesOf(x, credentialed(s));
    var here = SandboxDom.currentEngine();
    if (engines) {
      box.dataset.engine = here || "";
      parts.push(SandboxDom.engineBlock(engines, "In each browser", here));
    }
    var cookies = SandboxDom.cookieBlock(x.actual, here);
    if (cookies) parts.push(cookies);
    // The journal's verdict says whether such a request needs a preflight (the browser
    // model's rule, not a copy of it here).
    if (x.preflight === null && x.actual && x.actual.verdict && x.actual.verdict.preflight_required) {
      parts.push(el("p", { class: "note", text: "No preflight reached the API although this request needs one: the browser used a cached preflight (Access-Control-Max-Age). A policy change may not show until it expires." }));
    }
    var pageBlocked = !current.page.ok;
    // Held against the verdict of the engine the page runs in, not Chromium's.
    var mine = engines && here && engines[here] ? engines[here].verdict : v;
    if (s.mode === "cors" && (pageBlocked !== (mine.outcome === "blocked"))) {
      parts.push(el("p", { class: "note", text: pageBlocked
        ? "The page got an error although the model allows the exchange: a network error, or the request was cancelled."
        : "The page read the response although the model blocks it: please report this as a model bug." }));
    }
    replace(body, parts);
  }

  function renderPage(s, x) {
    var body = $("page-saw-body");
    var p = current.page;
    if (!p) { replace(body, [el("p", { class: "empty", text: "Waiting…" })]); return; }
    if (!p.ok) {
      replace(body, [
        el("p", { class: "page-error" }, [el("code", { id: "page-error", text: p.error })]),
        el("p", { class: "note", text: "That is all a script learns when CORS blocks a request: the reason is only in the console (and in the verdict here)." })
      ]);
      return;
    }
    if (p.element) {
      replace(body, [el("p", { class: "status-line" }, [
        el("code", { id: "page-status", text: "loaded" }),
        " — " + LOAD_TEXT[p.element] + " fired `load`: the page may use the resource (an element's load shows script no status or headers)"
      ])]);
      return;
    }
    var parts = [el("p", { class: "status-line" }, [
      "Status ", el("code", { id: "page-status", text: String(p.status) + (p.statusText ? " " + p.statusText : "") }),
      " · response.type ", el("code", { text: p.type })
    ])];
    parts.push(el("p", { class: "label", text: "Headers the script can read" }));
    parts.push(headerTable(p.headers, "Readable response headers", tableLook()));
    // What the API sent that the script was not allowed to see: only the CORS-safelisted
    // response headers and those in Access-Control-Expose-Headers are readable.
    if (x.actual && p.type === "cors") {
      var readable = {};
      p.headers.forEach(function (h) { readable[h[0].toLowerCase()] = true; });
      var hidden = [];
      (x.actual.response_headers || []).forEach(function (h) {
        var n = h[0].toLowerCase();
        if (!readable[n] && hidden.indexOf(n) < 0) hidden.push(n);
      });
      if (hidden.length) {
        parts.push(el("p", { class: "label", text: "Sent by the API but hidden from the script" }));
        parts.push(el("p", { class: "hidden-headers" }, [el("code", { id: "hidden-headers", text: hidden.join(", ") })]));
        parts.push(el("p", { class: "note", text: "To read one, add it to expose_headers in the policy." }));
      }
    }
    if (p.body) {
      parts.push(el("p", { class: "label", text: "Body" }));
      parts.push(el("pre", { class: "body", text: p.body.length > 2000 ? p.body.slice(0, 2000) + "…" : p.body }));
    }
    replace(body, parts);
  }

  function requestLine(e) {
    var q = e.query ? "?" + e.query : "";
    return el("p", { class: "req-line" }, [
      el("span", { class: "tag " + (e.preflight ? "pre" : "act"), text: e.preflight ? "preflight" : "actual" }), " ",
      el("code", { text: e.method + " " + e.path + q })
    ]);
  }

  function renderReceived(x, s) {
    var body = $("api-received-body");
    if (!x.preflight && !x.actual) {
      replace(body, [el("p", { class: "empty", text: current.page ? "Nothing: no request reached the API." : "Waiting…" })]);
      return;
    }
    var parts = [];
    [x.preflight, x.actual].forEach(function (e) {
      if (!e) return;
      var sec = el("div", { class: "exchange " + (e.preflight ? "preflight" : "actual"), "data-entry-id": String(e.id) }, [
        requestLine(e),
        headerTable(e.request_headers, "Request headers as they arrived", tableLook(isCorsHeader))
      ]);
      parts.push(sec);
    });
    if (x.preflight && !x.actual && current.page) {
      // No actual request here: what decided the exchange is the preflight.
      var d = verdictOf(x, credentialed(s));
      parts.push(el("p", { class: "note", text: d && d.verdict.outcome === "blocked"
        ? "The actual request was never sent: the preflight failed."
        : "No actual request (yet)." }));
    }
    replace(body, parts);
  }

  function renderAnswered(x) {
    var body = $("api-answered-body");
    if (!x.preflight && !x.actual) {
      replace(body, [el("p", { class: "empty", text: current.page ? "Nothing." : "Waiting…" })]);
      return;
    }
    var parts = [];
    [x.preflight, x.actual].forEach(function (e) {
      if (!e) return;
      parts.push(el("div", { class: "exchange " + (e.preflight ? "preflight" : "actual") }, [
        el("p", { class: "req-line" }, [
          el("span", { class: "tag " + (e.preflight ? "pre" : "act"), text: e.preflight ? "preflight" : "actual" }), " ",
          // No status when the routes file's `fault` dropped the connection.
          el("code", { text: e.status == null ? "no response (" + e.no_response + " by the sandbox's fault injection: a network error, not CORS)" : String(e.status) }),
          " in " + e.duration_ms + " ms" + (e.no_response ? ""
            // No snapshot: a `cors = "route"` route or the upstream answered CORS itself.
            : e.policy_generation == null ? ", not through the CORS policy (the route or the upstream sets its own CORS headers)"
            : ", policy generation " + e.policy_generation)
        ]),
        // The journal sees the response before the HTTP server adds Date and Content-Length.
        headerTable(e.response_headers, "Response headers as sent", tableLook(isCorsHeader,
          "(no headers besides Date and Content-Length: no CORS headers at all)"))
      ]));
    });
    replace(body, parts);
  }

  // ── presets, policy, wiring ──────────────────────────────────────────────────────────────

  function renderPresets() {
    var box = $("presets");
    PRESETS.forEach(function (p) {
      var b = el("button", { type: "button", class: "preset", "data-preset": p.id, "aria-pressed": "false", text: p.label });
      b.addEventListener("click", function () { applyPreset(p); });
      box.appendChild(b);
    });
  }

  function applyPreset(p) {
    presetId = p.id;
    var s = Object.assign({ api: $("api").value, headers: [], body: "", credentials: DEFAULTS.credentials, mode: DEFAULTS.mode }, p.state);
    fillForm(s);
    markPreset();
  }

  function markPreset() {
    var note = "";
    document.querySelectorAll("#presets .preset").forEach(function (b) {
      var on = b.dataset.preset === presetId;
      b.setAttribute("aria-pressed", on ? "true" : "false");
    });
    PRESETS.forEach(function (p) { if (p.id === presetId) note = p.note; });
    $("preset-note").textContent = note;
  }

  function loadPolicy() {
    fetch("/__sandbox/in-force", { cache: "no-store" }).then(function (r) { return r.json(); }).then(function (f) {
      var api = apiByName($("api").value);
      var a = f.apis.filter(function (x) { return api && x.name === api.name; })[0] || f.apis[0];
      if (!a) return;
      $("policy-gen").textContent = "(" + a.policy.file + ", generation " + a.policy.generation + ")";
      $("policy-text").textContent = a.policy.text;
      policyInForce = { api: a.name, text: a.policy.text };
      if (!$("fixture-box").hidden) $("fixture-command").value = fixtureCommand(readForm());
    }).catch(function () {});
  }

  function copy(text, what) {
    var done = function () { $("form-status").textContent = what + " copied."; };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(done, function () { $("form-status").textContent = "Copy failed: select the text and copy it yourself."; });
    } else {
      $("form-status").textContent = "Select the text and copy it yourself.";
    }
  }

  function init() {
    $("self-origin").textContent = location.origin;
    renderPresets();
    $("add-header").addEventListener("click", function () {
      var row = addHeaderRow("", "");
      row.querySelector(".h-name").focus();
    });
    $("request-form").addEventListener("input", formChanged);
    $("request-form").addEventListener("change", formChanged);
    $("request-form").addEventListener("submit", send);
    $("copy-link").addEventListener("click", function () { updateDerived(); copy(location.href, "Link"); });
    $("make-fixture").addEventListener("click", function () {
      $("fixture-box").hidden = false;
      $("fixture-command").value = fixtureCommand(readForm());
      $("fixture-command").focus();
      $("fixture-command").select();
    });
    $("copy-fixture").addEventListener("click", function () { copy($("fixture-command").value, "Command"); });
    window.addEventListener("sandbox:request", function (ev) { if (ev.detail && ev.detail.entry) noteEntry(ev.detail.entry); });
    window.addEventListener("sandbox:reloaded", loadPolicy);

    fetch("/__sandbox/config.json", { cache: "no-store" }).then(function (r) { return r.json(); }).then(function (c) {
      config = c;
      c.apis.forEach(function (a) {
        $("api").appendChild(el("option", { value: a.name, text: a.name + " — " + a.url }));
      });
    }).catch(function () {
      config = { apis: [], statics: [] };
      $("form-status").textContent = "Could not read /__sandbox/config.json: is this page served by sandbox?";
    }).then(function () {
      fillForm(queryToState(location.search));
      markPreset();
      loadPolicy();
      document.body.dataset.ready = "true";
    });
  }

  init();
})();
