// DOM helpers shared by the lab page and the request inspector, both served by sandbox, and
// the rendering and verdict rules both pages apply to the API's journal entries. Both show
// text that someone else sent (headers, bodies), so nothing here ever parses HTML.
var SandboxDom = (function () {
  "use strict";

  function $(id) { return document.getElementById(id); }

  // Builds an element; children may be strings (text nodes, never parsed as HTML) or nodes.
  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        if (k === "text") e.textContent = attrs[k];
        else if (k === "class") e.className = attrs[k];
        else if (attrs[k] !== undefined && attrs[k] !== null) e.setAttribute(k, attrs[k]);
      });
    }
    (children || []).forEach(function (c) {
      if (c === null || c === undefined) return;
      e.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return e;
  }

  function replace(node, children) {
    while (node.firstChild) node.removeChild(node.firstChild);
    children.forEach(function (c) { if (c) node.appendChild(c); });
  }

  // The headers CORS reads or writes, highlighted in both pages' header tables.
  function isCorsHeader(name) {
    var n = name.toLowerCase();
    return n.indexOf("access-control-") === 0 || n === "origin" || n === "vary";
  }

  // A table of [name, value] header pairs captioned `caption`, or a paragraph when there are
  // none. The pages style it differently, so `look` says how:
  //   hot(name): true for the rows to mark class "hot" (no row is marked without it);
  //   captionClass: the caption's class (none without it);
  //   emptyClass, emptyText: the paragraph shown instead of an empty table.
  function headerTable(headers, caption, look) {
    if (!headers || !headers.length) return el("p", { class: look.emptyClass, text: look.emptyText });
    var rows = headers.map(function (h) {
      var hot = look.hot && look.hot(h[0]);
      return el("tr", hot ? { class: "hot" } : null, [el("th", { scope: "row", text: h[0] }), el("td", { text: h[1] })]);
    });
    var cap = look.captionClass ? { class: look.captionClass, text: caption } : { text: caption };
    return el("table", { class: "headers-table" }, [el("caption", cap), el("tbody", null, rows)]);
  }

  // The verdict of one journal entry. The API cannot see a page's credentials mode: it judged
  // the request as it arrived and added `verdict_if_credentialed` when credentials would
  // change the answer, which applies when the caller knows the request was credentialed.
  function entryVerdict(entry, credentialed) {
    if (!entry) return null;
    if (credentialed && entry.verdict_if_credentialed) return entry.verdict_if_credentialed;
    return entry.verdict || null;
  }

  // What decided an exchange `x` ({preflight, actual}, either may be null): a blocked
  // preflight (its actual request was never sent), else the actual request, else the
  // preflight. `credentialed`: whether the page sent credentials (omitted: the verdicts as the
  // API judged them). Returns {verdict, stage} ("preflight" or "actual request"), or null when
  // no entry has a verdict (no Origin, nothing for CORS to decide).
  function verdictOf(x, credentialed) {
    var pv = entryVerdict(x.preflight, credentialed), av = entryVerdict(x.actual, credentialed);
    if (pv && pv.outcome === "blocked") return { verdict: pv, stage: "preflight" };
    if (av) return { verdict: av, stage: "actual request" };
    if (pv) return { verdict: pv, stage: "preflight" };
    return null;
  }

  // The cookie verdicts of a journal entry, or null when there are none: `cookies` (each
  // Set-Cookie line the API sent, each cookie the request should have carried and did not)
  // is Chromium's; `cookies_in` holds another engine's where they differ. The page's own
  // engine (`here`) is listed; every engine that decides otherwise follows, named, since
  // "the cookie works in Firefox, not in Chrome" is the report. Beside the CORS verdict
  // because a request CORS allows can still lack its cookie: the 401 users call CORS.
  var COOKIE_WORDS = { stored: "stored", stored_partitioned: "stored (partitioned)", deleted: "deleted",
    rejected: "not stored", sent: "sent", not_sent: "not sent" };
  function cookieThrough(c) {
    return c.outcome === "stored" || c.outcome === "stored_partitioned" || c.outcome === "sent";
  }
  function cookieItem(c, engine) {
    var through = cookieThrough(c);
    var words = COOKIE_WORDS[c.outcome] || c.outcome;
    return el("li", { class: "cookie " + (through ? "ok" : "bad") + (engine ? " elsewhere" : ""),
      "data-cookie": c.name, "data-outcome": c.outcome, "data-engine": engine ? engine.key : null }, [
      el("span", { class: "pill " + (through ? "ok" : "bad"), text: engine ? engine.name + ": " + words : words }), " ",
      el("code", { text: c.name || "(no name)" }),
      c.blocked_reasons && c.blocked_reasons.length ? el("span", { class: "muted", text: " DevTools: " + c.blocked_reasons.join(", ") }) : null,
      el("div", { class: "cookie-reason", text: c.reason }),
      c.fix ? el("div", { class: "fix" }, [el("strong", { text: "Fix: " }), c.fix]) : null
    ]);
  }
  // Whether `list` says of cookie `c` what `c` says (same name, action and outcome).
  function saysTheSame(list, c) {
    return list.some(function (m) { return m.name === c.name && m.action === c.action && m.outcome === c.outcome; });
  }
  function cookieBlock(entry, here) {
    if (!entry) return null;
    var own = entry.cookies_in || {};
    var listOf = function (key) { return (key !== "chromium" && own[key]) || entry.cookies || []; };
    var mainKey = ENGINES.some(function (en) { return en.key === here; }) ? here : "chromium";
    var main = listOf(mainKey);
    var items = main.map(function (c) { return cookieItem(c, null); });
    ENGINES.forEach(function (en) {
      if (en.key === mainKey) return;
      listOf(en.key).forEach(function (c) { if (!saysTheSame(main, c)) items.push(cookieItem(c, en)); });
    });
    if (!items.length) return null;
    var name = ENGINES.filter(function (en) { return en.key === mainKey; })[0].name;
    return el("div", { class: "cookie-block", "data-engine": mainKey }, [
      el("h4", { text: "Cookies (" + name + (mainKey === here ? ", this browser" : "") + ")" }), el("ul", null, items)]);
  }

  // ── engines ─────────────────────────────────────────────────────────────────────────────
  // Journal entries carry `verdicts` ({chromium, firefox, webkit}, each in that engine's own
  // words) beside `verdict` (Chromium's). "Works in Chrome, fails in Safari" is one of the
  // commonest CORS reports, so both pages show all three and mark the one they run in.
  var ENGINES = [
    { key: "chromium", name: "Chromium", short: "C" },
    { key: "firefox", name: "Firefox", short: "F" },
    { key: "webkit", name: "Safari (WebKit)", short: "W" }
  ];

  // The engine this page runs in, from its user agent. Every Chromium and every WebKit UA
  // says "AppleWebKit" and "Safari", and Edge and Opera say "Chrome": Firefox is asked first,
  // then the Chromium names, and what is left with AppleWebKit is WebKit.
  function currentEngine(ua) {
    ua = ua === undefined ? navigator.userAgent : ua;
    if (/\bFirefox\//.test(ua)) return "firefox";
    if (/\b(Chrome|Chromium|CriOS|Edg|OPR)\//.test(ua) || /HeadlessChrome/.test(ua)) return "chromium";
    if (/AppleWebKit\//.test(ua)) return "webkit";
    return null;
  }

  // The per-engine verdicts of one journal entry, credentialed or not as for entryVerdict.
  function entryVerdicts(entry, credentialed) {
    if (!entry) return null;
    if (credentialed && entry.verdicts_if_credentialed) return entry.verdicts_if_credentialed;
    return entry.verdicts || null;
  }

  // What decided an exchange in each engine, as verdictOf does for Chromium: {key: {verdict,
  // stage}}, or null when the entries carry no per-engine verdicts.
  function enginesOf(x, credentialed) {
    var pv = entryVerdicts(x.preflight, credentialed), av = entryVerdicts(x.actual, credentialed);
    if (!pv && !av) return null;
    var out = {};
    ENGINES.forEach(function (en) {
      var p = pv && pv[en.key], a = av && av[en.key];
      if (p && p.outcome === "blocked") out[en.key] = { verdict: p, stage: "preflight" };
      else if (a) out[en.key] = { verdict: a, stage: "actual request" };
      else if (p) out[en.key] = { verdict: p, stage: "preflight" };
    });
    return out;
  }

  function sameDecision(a, b) {
    // `check` names the failed check alike in every engine; their own names differ.
    return a.outcome === b.outcome && (a.check || null) === (b.check || null);
  }

  // One small badge per engine ("C ✓ F ✓ W ✗"), the page's own engine marked.
  function engineBadges(byEngine, here) {
    if (!byEngine) return null;
    return el("span", { class: "engine-badges" }, ENGINES.map(function (en) {
      var d = byEngine[en.key];
      if (!d) return null;
      var v = d.verdict || d, ok = v.outcome === "allowed";
      return el("span", {
        class: "engine-badge " + (ok ? "ok" : "bad") + (en.key === here ? " here" : ""),
        "data-engine": en.key, "data-outcome": v.outcome,
        title: en.name + ": " + v.outcome + (v.cors_error ? " (" + v.cors_error + ")" : "") + (en.key === here ? " — this browser" : ""),
        text: en.short + (ok ? " ✓" : " ✗")
      });
    }));
  }

  // Each engine's verdict in its own words: outcome, error name, every console line, the
  // TypeError script sees. Says plainly when they disagree.
  function engineBlock(byEngine, title, here) {
    if (!byEngine) return null;
    var first = null, agree = true;
    ENGINES.forEach(function (en) {
      var d = byEngine[en.key];
      if (!d) return;
      var v = d.verdict || d;
      if (!first) first = v; else if (!sameDecision(first, v)) agree = false;
    });
    var parts = [el("h4", { text: title })];
    parts.push(el("p", { class: agree ? "muted engines-agree" : "engines-disagree", text: agree
      ? "All three engines decide alike."
      : "The engines disagree: this exchange does not fare the same in every browser." }));
    ENGINES.forEach(function (en) {
      var d = byEngine[en.key];
      if (!d) return;
      var v = d.verdict || d, ok = v.outcome === "allowed";
      var lines = (v.messages && v.messages.length) ? v.messages : (v.message ? [v.message] : []);
      parts.push(el("section", { class: "engine-verdict " + v.outcome + (en.key === here ? " here" : ""), "data-engine": en.key }, [
        el("h5", null, [en.name, en.key === here ? el("span", { class: "muted", text: " (this browser)" }) : null]),
        el("p", { class: "outcome" }, [
          el("span", { class: "pill " + (ok ? "ok" : "bad"), text: v.outcome }),
          v.cors_error ? " " : null,
          v.cors_error ? el("code", { class: "cors-error", text: v.cors_error }) : null,
          d.stage ? el("span", { class: "muted", text: " at the " + d.stage }) : null
        ]),
        lines.length ? el("pre", { class: "console", text: lines.join("\n") }) : null,
        v.js_error ? el("p", { class: "muted js-error", text: "fetch() rejects with " + v.js_error }) : null
      ]));
    });
    return el("div", { class: "engine-block" }, parts);
  }

  return {
    $: $, el: el, replace: replace,
    isCorsHeader: isCorsHeader, headerTable: headerTable, verdictOf: verdictOf, cookieBlock: cookieBlock,
    ENGINES: ENGINES, currentEngine: currentEngine, entryVerdicts: entryVerdicts, enginesOf: enginesOf,
    engineBadges: engineBadges, engineBlock: engineBlock
  };
})();
