// Netwarden review app: keyboard shortcuts and bulk selection. No inline scripts (CSP: script-src 'self').
(function () {
  "use strict";
  function rows() { return Array.from(document.querySelectorAll("tr.row")); }
  var cur = -1;
  function focus(i) {
    var r = rows();
    if (!r.length) return;
    cur = Math.max(0, Math.min(r.length - 1, i));
    r.forEach(function (x) { x.classList.remove("focus"); });
    r[cur].classList.add("focus");
    r[cur].scrollIntoView({ block: "nearest" });
    document.dispatchEvent(new CustomEvent("nw:focus", { detail: r[cur] }));
  }
  function submitDecision(value) {
    var form = document.getElementById("members");
    if (!form) {  // the account page: its first open case's form, then the next undecided member
      var here = document.querySelector('form.decide-here button[data-key][value="' + value + '"]');
      if (here) here.click();
      return;
    }
    var r = rows()[cur];
    var picked = form.querySelectorAll("input.pick:checked");
    if (!picked.length && r) {
      var box = r.querySelector("input.pick");
      if (box) box.checked = true;
    }
    var btn = form.querySelector('button[name="decision"][value="' + value + '"]');
    if (btn) btn.click();
  }
  document.addEventListener("keydown", function (ev) {
    var t = ev.target;
    if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT")) return;
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    switch (ev.key) {
      case "j": focus(cur + 1); break;
      case "k": focus(cur - 1); break;
      case "x": { var r = rows()[cur]; var b = r && r.querySelector("input.pick"); if (b) b.checked = !b.checked; break; }
      case "o": case "Enter": { var r2 = rows()[cur]; var a = r2 && r2.querySelector("a"); if (a) a.click(); break; }
      case "c": submitDecision("confirm"); break;
      case "l": submitDecision("clear"); break;
      case "e": submitDecision("escalate"); break;
      case "g": window.location.href = "/queue"; break;
      case "/": { var sq = document.getElementById("search-q"); if (sq) sq.focus(); break; }
      case "?": { var h = document.getElementById("keys-help"); if (h) { h.hidden = !h.hidden; if (!h.hidden) h.focus(); } break; }
      case "Escape": { var h2 = document.getElementById("keys-help"); if (h2 && !h2.hidden) { h2.hidden = true; break; } return; }
      default: return;
    }
    ev.preventDefault();
  });
  // the case page's side panel: the selected member (from the network view or the table)
  document.addEventListener("nw:selected", function (ev) {
    var aside = document.getElementById("side-panel");
    if (!aside || !window.htmx || !ev.detail) return;
    window.htmx.ajax("GET", aside.getAttribute("data-panel") + "?account=" + encodeURIComponent(ev.detail),
                     { target: "#side-panel", swap: "innerHTML" });
  });
  // a decision made in the panel: reload the member table (same page), the view recolours after it
  document.body.addEventListener("nw-members-changed", reloadMembers);  // app.js is deferred: body exists
  function reloadMembers() {
    var aside = document.getElementById("side-panel");
    var form = document.getElementById("members");
    if (!aside || !form || !window.htmx) return;
    var page = form.querySelector("input[name=page]");
    window.htmx.ajax("GET", aside.getAttribute("data-members") + "?page=" + encodeURIComponent(page ? page.value : "1"),
                     { target: "#members", swap: "outerHTML" });
  }
  // after a decision swaps the member table in, focus moves on to the next undecided member
  document.addEventListener("htmx:afterSwap", function (ev) {
    var t = ev.detail && ev.detail.target;
    if (!t || t.id !== "members" || cur < 0) return;
    var r = rows();
    for (var i = cur; i < r.length; i++) {
      if (r[i].classList.contains("state-candidate")) { focus(i); return; }
    }
    focus(Math.min(cur, r.length - 1));
  });
  document.addEventListener("change", function (ev) {
    var t = ev.target;
    if (t && t.hasAttribute && t.hasAttribute("data-select-all")) {
      document.querySelectorAll("input.pick[data-candidate]").forEach(function (b) { b.checked = t.checked; });
    }
  });
})();
