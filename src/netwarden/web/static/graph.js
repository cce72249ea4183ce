// Netwarden network view over Cytoscape.js (vendored). The layout comes from the server
// (netwarden.web.network): communities as discs, ties inside them one by one, ties between them as
// bundles. Platform text (handles) only ever reaches the canvas as label data, never the DOM as HTML,
// and never a selector: nodes are addressed by "n" + rank, a server-made number.
(function () {
  "use strict";
  var STATE_COLOR = { candidate: "#1f5fbf", confirmed: "#b3261e", cleared: "#9aa0a6", escalated: "#c77700" };

  function cut(s, n) { s = String(s); return s.length > n ? s.slice(0, n) + "\u2026" : s; }
  function urlpart(v) {  // the server's urlpart filter (netwarden.web.deps.urlpart)
    var s = encodeURIComponent(String(v)).replace(/[!'()*~]/g, function (c) {
      return "%" + c.charCodeAt(0).toString(16).toUpperCase();
    });
    return (s === "." || s === "..") ? "~" + s : s;
  }

  function elements(d) {
    var els = [];
    d.groups.forEach(function (g) {
      els.push({ group: "nodes", data: { id: "g" + g.id, size: 2 * g.r, n: g.n },
                 position: { x: g.x, y: g.y }, classes: "halo" + (g.unconnected ? " loose" : ""),
                 selectable: false, grabbable: false });
    });
    d.nodes.forEach(function (n) {
      els.push({ group: "nodes", position: { x: n.x, y: n.y },
                 data: { id: "n" + n.rank, acc: n.id, handle: n.handle, rank: n.rank, role: n.role, state: n.state,
                         risk: n.risk, signals: n.signals, group: n.group, lbl: n.label ? cut(n.handle, 24) : "",
                         top: n.label },
                 classes: "member " + n.role + " " + n.state });
    });
    d.edges.forEach(function (e, i) {
      var s = d.nodes[e.s], t = d.nodes[e.t];
      els.push({ group: "edges", data: { id: "e" + i, source: "n" + s.rank, target: "n" + t.rank, kinds: e.kinds, w: e.w },
                 classes: "tie" + (e.cross ? " cross" : "") });
    });
    d.bundles.forEach(function (b, i) {
      els.push({ group: "edges", data: { id: "b" + i, source: "g" + b.a, target: "g" + b.b, n: b.n, kinds: b.kinds,
                                         width: Math.min(12, 1 + 2 * Math.log(1 + b.n)) }, classes: "bundle" });
    });
    return els;
  }

  var STYLE = [
    { selector: "node.halo", style: { width: "data(size)", height: "data(size)", "background-color": "#eef2f8",
      "background-opacity": 0.7, "border-width": 1, "border-color": "#d5dbe5", label: "", events: "no", "z-index": 0 } },
    { selector: "node.halo.loose", style: { "background-color": "#f7f7f7", "border-style": "dashed" } },
    { selector: "node.member", style: { width: "mapData(risk, 0, 100, 5, 11)", height: "mapData(risk, 0, 100, 5, 11)",
      "background-color": "#fff", "border-width": 1.5, "border-color": "#1f5fbf", label: "data(lbl)", "font-size": 7,
      "text-valign": "top", "text-margin-y": -2, "text-background-color": "#fff", "text-background-opacity": 0.8,
      "text-background-padding": 1, "z-index": 10, "min-zoomed-font-size": 4 } },
    { selector: "node.member[?top]", style: { "z-index": 12 } },
    { selector: "node.member.core", style: { "background-color": "#1f5fbf" } },
    { selector: "node.member.seed", style: { shape: "star", width: 14, height: 14, "background-color": "#111", "border-color": "#111" } },
    { selector: "node.member.confirmed", style: { "border-color": STATE_COLOR.confirmed, "border-width": 3 } },
    { selector: "node.member.core.confirmed", style: { "background-color": STATE_COLOR.confirmed } },
    { selector: "node.member.cleared", style: { "background-color": "#e3e5e8", "border-color": STATE_COLOR.cleared } },
    { selector: "node.member.escalated", style: { "border-color": STATE_COLOR.escalated, "border-width": 3 } },
    { selector: "node.member:selected", style: { "overlay-color": "#f2b400", "overlay-opacity": 0.45, "overlay-padding": 4,
      label: "data(handle)", "font-size": 9, "z-index": 20 } },
    { selector: "edge.tie", style: { width: "mapData(w, 0.5, 6, 0.4, 2.5)", "line-color": "#8f9bb0", opacity: 0.45,
      "curve-style": "haystack", "z-index": 5 } },
    { selector: "edge.tie.cross", style: { display: "none" } },
    { selector: "edge.tie.cross.every", style: { display: "element" } },
    { selector: "edge.bundle", style: { width: "data(width)", "line-color": "#6b7a90", opacity: 0.35, "curve-style": "straight",
      "z-index": 1, events: "no" } },
    { selector: ".hidden", style: { display: "none" } },
    { selector: "edge.tie.near", style: { "line-color": "#f2b400", opacity: 0.9, "z-index": 15 } }
  ];

  function rowFor(id) { return document.querySelector('tr[data-node="' + id + '"]'); }

  function select(cy, id, fromRow, quiet) {
    cy.nodes(":selected").unselect();
    cy.edges(".near").removeClass("near");
    var n = cy.getElementById(id);
    if (!n.length) return;
    n.select();
    n.connectedEdges(".tie").addClass("near");
    var info = document.getElementById("graph-selected");
    if (info) {
      info.textContent = "";
      var a = document.createElement("a");
      a.href = "/accounts/" + urlpart(n.data("acc"));
      a.textContent = n.data("handle");
      info.appendChild(a);
      info.appendChild(document.createTextNode(" · rank " + n.data("rank") + " · " + n.data("role") + " · " +
        n.data("state") + " · " + n.connectedEdges(".tie").length + " ties shown" +
        (n.data("signals").length ? " · " + n.data("signals").join(", ") : "")));
    }
    document.querySelectorAll("tr.graph-picked").forEach(function (r) { r.classList.remove("graph-picked"); });
    var row = rowFor(id);
    if (row) {
      row.classList.add("graph-picked");
      if (!fromRow) row.scrollIntoView({ block: "nearest" });
    }
    if (!quiet) document.dispatchEvent(new CustomEvent("nw:selected", { detail: n.data("acc") }));
  }

  function applyFilters(cy, box) {
    var off = {};
    box.querySelectorAll("input[data-filter]").forEach(function (c) {
      if (!c.checked) off[c.getAttribute("data-filter") + ":" + c.value] = true;
    });
    var every = box.querySelector("input[data-every-tie]");
    cy.batch(function () {
      cy.nodes(".member").forEach(function (n) {
        var hide = off["role:" + n.data("role")] || off["state:" + n.data("state")];
        var sig = n.data("signals");
        if (!hide && Object.keys(off).some(function (k) { return k.indexOf("signal:") === 0; })) {
          // shown when one of its signal kinds is on; "none" stands for members without signals
          hide = sig.length ? sig.every(function (s) { return off["signal:" + s]; }) : !!off["signal:none"];
        }
        n.toggleClass("hidden", !!hide);
      });
      cy.edges(".tie").forEach(function (e) {
        var kinds = e.data("kinds");
        var hide = kinds.every(function (k) { return off["tie:" + k]; }) || e.source().hasClass("hidden") || e.target().hasClass("hidden");
        e.toggleClass("hidden", hide);
        e.toggleClass("every", !!(every && every.checked));
      });
      cy.edges(".bundle").toggleClass("hidden", !!(every && every.checked));
    });
  }

  function refresh(cy, url) {
    fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (d) {
      cy.batch(function () {
        d.nodes.forEach(function (n) {
          var el = cy.getElementById("n" + n.rank);
          if (!el.length) return;
          ["candidate", "confirmed", "cleared", "escalated"].forEach(function (s) { el.removeClass(s); });
          el.addClass(n.state);
          el.data({ state: n.state, risk: n.risk, signals: n.signals });
        });
      });
      var box = document.querySelector(".graph-box");
      if (box) applyFilters(cy, box);
    });
  }

  function start(container) {
    var box = container.closest(".graph-box");
    var url = container.getAttribute("data-graph");
    fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (d) {
      var cy = window.cytoscape({ container: container, elements: elements(d), style: STYLE, layout: { name: "preset" },
                                  minZoom: 0.05, maxZoom: 6, boxSelectionEnabled: false,
                                  autoungrabify: false, textureOnViewport: true, hideEdgesOnViewport: d.edges.length > 5000 });
      container.nwCy = cy;
      cy.fit(undefined, 20);
      var note = box.querySelector("#graph-ties");
      if (note) {
        note.textContent = d.nodes.length + " members in " + d.groups.length + " groups; " + d.ties.pairs +
          " tied pairs" + (d.ties.capped ? " (the " + d.ties.sent + " strongest drawn)" : "") +
          "; ties between groups drawn as bundles.";
      }
      cy.on("tap", "node.member", function (ev) { select(cy, ev.target.id(), false); });
      cy.on("dbltap", "node.member", function (ev) { window.location.href = "/accounts/" + urlpart(ev.target.data("acc")); });
      cy.on("tap", function (ev) { if (ev.target === cy) { cy.nodes(":selected").unselect(); cy.edges(".near").removeClass("near"); } });
      box.addEventListener("change", function (ev) {
        if (ev.target.matches("input[data-filter], input[data-every-tie]")) applyFilters(cy, box);
      });
      box.addEventListener("click", function (ev) {
        var b = ev.target.closest("button[data-zoom]");
        if (!b) return;
        var z = b.getAttribute("data-zoom");
        if (z === "fit") cy.fit(cy.nodes(".member:visible"), 20);
        else cy.zoom({ level: cy.zoom() * (z === "in" ? 1.4 : 1 / 1.4), renderedPosition: { x: container.clientWidth / 2, y: container.clientHeight / 2 } });
      });
      document.addEventListener("click", function (ev) {
        var row = ev.target.closest && ev.target.closest("tr[data-node]");
        if (!row || ev.target.closest("a, input, button, label")) return;
        select(cy, row.getAttribute("data-node"), true);
      });
      document.addEventListener("nw:focus", function (ev) {
        var id = ev.detail && ev.detail.getAttribute && ev.detail.getAttribute("data-node");
        if (id) select(cy, id, true);
      });
      document.addEventListener("keydown", function (ev) {
        if (ev.key === "Escape") { cy.nodes(":selected").unselect(); cy.edges(".near").removeClass("near"); }
      });
      document.body.addEventListener("htmx:afterSwap", function (ev) {
        var t = ev.detail && ev.detail.target;
        if (t && t.id === "side-panel") {  // the panel moved on to the next member: follow it, quietly
          var p = t.querySelector(".panel[data-node]");
          if (p) select(cy, p.getAttribute("data-node"), false, true);
          return;
        }
        if ((t && t.id === "members") || (ev.target && ev.target.id === "members")) refresh(cy, url);
      });
      applyFilters(cy, box);
      box.setAttribute("data-ready", "1");
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var c = document.getElementById("graph");
    if (c && window.cytoscape) start(c);
  });
})();
