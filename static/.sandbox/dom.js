// DOM helpers shared by the lab page and the request inspector, both served by sandbox. Both
// show text that someone else sent (headers, bodies), so nothing here ever parses HTML.
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

  return { $: $, el: el, replace: replace };
})();
