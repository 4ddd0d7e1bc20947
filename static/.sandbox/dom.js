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

  // The cookie verdicts of a journal entry (`cookies`: each Set-Cookie line the API sent,
  // each cookie the request should have carried and did not), or null when there are none.
  // Beside the CORS verdict because a request CORS allows can still lack its cookie: the 401
  // users call CORS.
  var COOKIE_WORDS = { stored: "stored", stored_partitioned: "stored (partitioned)", deleted: "deleted",
    rejected: "not stored", sent: "sent", not_sent: "not sent" };
  function cookieBlock(cookies) {
    if (!cookies || !cookies.length) return null;
    var items = cookies.map(function (c) {
      var through = c.outcome === "stored" || c.outcome === "stored_partitioned" || c.outcome === "sent";
      return el("li", { class: "cookie " + (through ? "ok" : "bad"), "data-cookie": c.name, "data-outcome": c.outcome }, [
        el("span", { class: "pill " + (through ? "ok" : "bad"), text: COOKIE_WORDS[c.outcome] || c.outcome }), " ",
        el("code", { text: c.name || "(no name)" }),
        c.blocked_reasons && c.blocked_reasons.length ? el("span", { class: "muted", text: " DevTools: " + c.blocked_reasons.join(", ") }) : null,
        el("div", { class: "cookie-reason", text: c.reason }),
        c.fix ? el("div", { class: "fix" }, [el("strong", { text: "Fix: " }), c.fix]) : null
      ]);
    });
    return el("div", { class: "cookie-block" }, [el("h4", { text: "Cookies" }), el("ul", null, items)]);
  }

  return {
    $: $, el: el, replace: replace,
    isCorsHeader: isCorsHeader, headerTable: headerTable, verdictOf: verdictOf, cookieBlock: cookieBlock
  };
})();
