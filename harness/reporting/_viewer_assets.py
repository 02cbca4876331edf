"""The run viewer's style sheet and script (:mod:`harness.reporting.viewer`)."""

from __future__ import annotations

CSS = """
#runs-table td, #runs-table th { white-space: nowrap; }
"""

JS = r"""
(function () {
  "use strict";
  var table = document.getElementById("runs-table");
  if (!table || !table.tBodies.length) { return; }
  var text = document.getElementById("runs-filter");
  var only = document.getElementById("runs-failing");
  var shown = document.getElementById("runs-shown");
  function apply() {
    var needle = text.value.trim().toLowerCase(), count = 0;
    Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
      if (!row.hasAttribute("data-run")) { return; }
      var name = (row.getAttribute("data-name") || "").toLowerCase();
      var visible = name.indexOf(needle) !== -1 &&
        (!only.checked || row.getAttribute("data-bad") === "1");
      row.hidden = !visible;
      var next = row.nextElementSibling;
      if (next && next.classList.contains("story-row")) { next.hidden = !visible; }
      if (visible) { count += 1; }
    });
    if (shown) { shown.textContent = String(count); }
  }
  if (text && only) {
    text.addEventListener("input", apply);
    only.addEventListener("change", apply);
  }
})();
"""
