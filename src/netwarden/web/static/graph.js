// Netwarden network view: a small hand-written force layout drawn in SVG (no library, no CDN).
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";
  function el(name, attrs) {
    var e = document.createElementNS(NS, name);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    return e;
  }
  function draw(svg, data) {
    var W = 800, H = 500;
    var nodes = data.nodes.map(function (n, i) {
      var a = i * 2.399963, r = 12 * Math.sqrt(i + 1);
      return Object.assign({ x: W / 2 + r * Math.cos(a), y: H / 2 + r * Math.sin(a), vx: 0, vy: 0 }, n);
    });
    var byId = {};
    nodes.forEach(function (n) { byId[n.id] = n; });
    var edges = data.edges.filter(function (e) { return byId[e.src] && byId[e.dst]; });
    var k = Math.sqrt((W * H) / Math.max(nodes.length, 1)) * 0.8;
    var ITER = 250;
    for (var it = 0; it < ITER; it++) {
      var temp = (W / 10) * (1 - it / ITER) + 0.5;
      for (var i = 0; i < nodes.length; i++) {
        var a = nodes[i]; a.fx = 0; a.fy = 0;
        for (var j = 0; j < nodes.length; j++) {
          if (i === j) continue;
          var b = nodes[j], dx = a.x - b.x, dy = a.y - b.y, d2 = dx * dx + dy * dy + 0.01;
          var f = (k * k) / d2; a.fx += dx * f; a.fy += dy * f;  // Fruchterman-Reingold: k^2 / d
        }
        a.fx += (W / 2 - a.x) * 0.05; a.fy += (H / 2 - a.y) * 0.05;
      }
      edges.forEach(function (e) {
        var s = byId[e.src], t = byId[e.dst], dx = t.x - s.x, dy = t.y - s.y, d = Math.sqrt(dx * dx + dy * dy) + 0.01;
        var f = (d * d) / k / d; s.fx += dx * f; s.fy += dy * f; t.fx -= dx * f; t.fy -= dy * f;
      });
      nodes.forEach(function (n) {
        var m = Math.sqrt(n.fx * n.fx + n.fy * n.fy) + 0.01, s = Math.min(m, temp) / m;
        n.x += n.fx * s; n.y += n.fy * s;
      });
    }
    // fit the layout to the view
    var x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    nodes.forEach(function (n) { x0 = Math.min(x0, n.x); y0 = Math.min(y0, n.y); x1 = Math.max(x1, n.x); y1 = Math.max(y1, n.y); });
    var sc = Math.min((W - 40) / Math.max(x1 - x0, 1), (H - 40) / Math.max(y1 - y0, 1));
    nodes.forEach(function (n) { n.x = 20 + (n.x - x0) * sc; n.y = 20 + (n.y - y0) * sc; });
    var gE = el("g", {}), gN = el("g", {});
    svg.appendChild(gE); svg.appendChild(gN);
    var lines = edges.map(function (e) {
      var l = el("line", { "class": "edge " + e.kind });
      gE.appendChild(l); return { l: l, e: e };
    });
    function place() {
      lines.forEach(function (o) {
        var s = byId[o.e.src], t = byId[o.e.dst];
        o.l.setAttribute("x1", s.x); o.l.setAttribute("y1", s.y); o.l.setAttribute("x2", t.x); o.l.setAttribute("y2", t.y);
      });
      nodes.forEach(function (n) {
        n.c.setAttribute("cx", n.x); n.c.setAttribute("cy", n.y);
        if (n.t) { n.t.setAttribute("x", n.x + 7); n.t.setAttribute("y", n.y + 3); }
      });
    }
    nodes.forEach(function (n) {
      var r = 3 + Math.min(4, (n.risk || 0) / 25);
      n.c = el("circle", { r: r, "class": "node " + (n.core ? "core" : "periphery") + " " + n.state, "data-id": n.id });
      var title = el("title", {}); title.textContent = n.handle + " (" + n.id + ") rank " + n.rank + ", " + n.state;
      n.c.appendChild(title);
      gN.appendChild(n.c);
      if (n.rank <= 12) { n.t = el("text", {}); n.t.textContent = cut(n.handle, 24); gN.appendChild(n.t); }
      var drag = null;
      n.c.addEventListener("mousedown", function (ev) { drag = { x: ev.clientX, y: ev.clientY, moved: false }; ev.preventDefault(); });
      window.addEventListener("mousemove", function (ev) {
        if (!drag) return;
        var box = svg.getBoundingClientRect(), sc = W / box.width;
        n.x += (ev.clientX - drag.x) * sc; n.y += (ev.clientY - drag.y) * sc;
        drag.x = ev.clientX; drag.y = ev.clientY; drag.moved = true; place();
      });
      window.addEventListener("mouseup", function () {
        if (drag && !drag.moved) window.location.href = "/accounts/" + urlpart(n.id);
        drag = null;
      });
    });
    place();
  }
  // The same encoding as the server's urlpart filter (netwarden.web.deps.urlpart): one path segment,
  // "~" always encoded, "." and ".." behind the "~" marker so the browser never walks up the path.
  function urlpart(v) {
    var s = encodeURIComponent(String(v)).replace(/[!'()*~]/g, function (c) {
      return "%" + c.charCodeAt(0).toString(16).toUpperCase();
    });
    return (s === "." || s === "..") ? "~" + s : s;
  }
  function cut(s, n) { s = String(s); return s.length > n ? s.slice(0, n) + "\u2026" : s; }
  document.addEventListener("DOMContentLoaded", function () {
    var svg = document.getElementById("graph");
    if (!svg) return;
    fetch(svg.getAttribute("data-graph"), { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (d) { draw(svg, d); });
  });
})();
