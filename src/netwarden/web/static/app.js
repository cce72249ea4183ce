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
    if (!form) return;
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
      case "?": { var f = document.querySelector("footer.keys"); if (f) f.scrollIntoView(); break; }
      default: return;
    }
    ev.preventDefault();
  });
  document.addEventListener("change", function (ev) {
    var t = ev.target;
    if (t && t.hasAttribute && t.hasAttribute("data-select-all")) {
      document.querySelectorAll("input.pick[data-candidate]").forEach(function (b) { b.checked = t.checked; });
    }
  });
})();
