"""The HTML report's inline style sheet and script (kept apart from the markup)."""

from __future__ import annotations

CSS = """
:root {
  --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg: #ffffff; --panel: #f6f8fa;
  --ok: #1a7f37; --ok-bg: #dafbe1; --fail: #cf222e; --fail-bg: #ffebe9;
  --mixed: #9a6700; --mixed-bg: #fff8c5; --none: #59636e; --none-bg: #f6f8fa;
  --regression: #8250df; --regression-bg: #fbefff; --error: #82071e;
  --error-bg: #ffd8d3;
}
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); background: var(--bg); line-height: 1.45;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main, .top, footer { max-width: 1320px; margin: 0 auto; padding: 0 20px; }
h1 { font-size: 15px; font-weight: 600; color: var(--muted); margin: 16px 0 8px; }
h2 { font-size: 18px; margin: 28px 0 10px; padding-bottom: 4px;
  border-bottom: 1px solid var(--line); }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  font-size: 12.5px; }
.verdict { border-radius: 10px; padding: 16px 20px; margin: 8px 0 12px;
  border: 2px solid currentColor; display: flex; flex-wrap: wrap; gap: 8px 28px;
  align-items: center; }
.verdict .word { font-size: 40px; font-weight: 800; letter-spacing: 0.04em;
  margin: 0; }
.verdict .counts { font-size: 18px; margin: 0; color: var(--fg); }
.verdict dl { margin: 0; display: grid; grid-template-columns: auto auto;
  gap: 0 10px; color: var(--fg); font-size: 13px; }
.verdict dt { color: var(--muted); }
.verdict dd { margin: 0; overflow-wrap: anywhere; }
.v-pass { color: var(--ok); background: var(--ok-bg); }
.v-fail { color: var(--fail); background: var(--fail-bg); }
.v-regression { color: var(--regression); background: var(--regression-bg); }
.v-error, .v-interrupted { color: var(--error); background: var(--error-bg); }
.v-empty { color: var(--none); background: var(--none-bg); }
.incomplete { border: 2px dashed var(--fail); background: var(--fail-bg);
  color: var(--error); padding: 10px 16px; border-radius: 8px; font-size: 16px;
  margin: 0 0 12px; }
nav { font-size: 13px; margin: 0 0 8px; }
nav a { color: var(--muted); margin-right: 14px; }
.note { color: var(--muted); }
.chips span { display: inline-block; border: 1px solid var(--line); padding: 1px 8px;
  border-radius: 999px; margin: 0 6px 4px 0; background: var(--panel); }
.chips .bad { border-color: var(--fail); color: var(--fail); font-weight: 600; }
.scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; font-size: 13px; }
th, td { border: 1px solid var(--line); padding: 3px 6px; text-align: left;
  vertical-align: middle; }
thead th { background: var(--panel); position: sticky; top: 0; z-index: 1; }
thead th button { all: unset; cursor: pointer; font-weight: 600; }
thead th button:focus-visible { outline: 2px solid var(--regression); }
th[aria-sort="ascending"] button::after { content: " \\25B2"; }
th[aria-sort="descending"] button::after { content: " \\25BC"; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.cell { text-align: center; font-weight: 600; min-width: 40px; }
caption { text-align: left; font-weight: 600; padding: 0 0 4px; }
.ok { color: var(--ok); background: var(--ok-bg); }
.fail { color: var(--fail); background: var(--fail-bg); }
.mixed { color: var(--mixed); background: var(--mixed-bg); }
.none { color: var(--none); background: var(--none-bg); font-weight: 400; }
.tag { display: inline-block; font-size: 11px; font-weight: 700; padding: 0 6px;
  border-radius: 4px; margin-left: 6px; }
.tag.regressed { color: #fff; background: var(--regression); }
.tag.improved { color: #fff; background: var(--ok); }
.tag.flaky { color: var(--fg); background: var(--mixed-bg); }
tr.regressed-row th { box-shadow: inset 4px 0 0 var(--regression); }
.controls { display: flex; gap: 16px; align-items: center; margin: 0 0 8px; }
.controls input[type=search] { padding: 4px 8px; min-width: 240px;
  border: 1px solid var(--line); border-radius: 6px; }
.bar { display: inline-block; height: 8px; background: var(--ok);
  border-radius: 2px; vertical-align: middle; margin-right: 6px; }
.meter { width: 240px; height: 10px; background: var(--fail-bg);
  border-radius: 5px; overflow: hidden; display: inline-block;
  vertical-align: middle; margin-right: 8px; }
.meter > span { display: block; height: 100%; background: var(--ok); }
td.hit { background: var(--ok-bg); color: var(--ok); font-weight: 700; }
td.miss { background: var(--fail-bg); color: var(--fail); font-weight: 700; }
td.zero { color: var(--muted); }
ul.runs { margin: 4px 0 10px; padding-left: 20px; }
details summary { cursor: pointer; }
svg text.axis { font-size: 11px; fill: var(--muted); }
svg.ci, svg.spark { vertical-align: middle; }
svg .grid { stroke: var(--line); stroke-width: 1; }
svg .zero { stroke: var(--muted); stroke-width: 1; stroke-dasharray: 2 2; }
svg .trend { fill: none; stroke: #0969da; stroke-width: 2; }
svg .dot { fill: #0969da; stroke: #fff; stroke-width: 1; }
svg .dot.pass, svg .dot.ok { fill: var(--ok); }
svg .dot.fail { fill: var(--fail); }
svg .dot.error, svg .dot.interrupted { fill: var(--error); }
svg .dot.regression { fill: var(--regression); }
svg .dot.mixed { fill: var(--mixed); }
svg .dot.current { stroke: var(--fg); stroke-width: 2; }
svg.ci .range { stroke: var(--fg); stroke-width: 2; }
svg.ci .mark { fill: var(--fg); }
svg.ci.regressed .range { stroke: var(--regression); }
svg.ci.regressed .mark { fill: var(--regression); }
svg.ci.improved .range { stroke: var(--ok); }
svg.ci.improved .mark { fill: var(--ok); }
footer { color: var(--muted); font-size: 12px; margin-top: 32px;
  margin-bottom: 24px; }
@media print { thead th { position: static; } .controls { display: none; } }
"""

# Sorting for every table.sortable and filtering for the matrix; nothing else.
JS = """
(function () {
  "use strict";
  function key(cell) {
    var v = cell ? cell.getAttribute("data-v") : null;
    if (v !== null && v !== "" && !isNaN(Number(v))) { return Number(v); }
    return cell ? cell.textContent.trim().toLowerCase() : "";
  }
  function compare(x, y) {
    if (typeof x === typeof y) { return x < y ? -1 : x > y ? 1 : 0; }
    return typeof x === "number" ? -1 : 1;
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"),
    function (table) {
      var heads = table.querySelectorAll("thead th");
      Array.prototype.forEach.call(heads, function (th, col) {
        var button = th.querySelector("button");
        if (!button || !table.tBodies.length) { return; }
        button.addEventListener("click", function () {
          var body = table.tBodies[0];
          var rows = Array.prototype.slice.call(body.rows);
          var ascending = th.getAttribute("aria-sort") !== "ascending";
          Array.prototype.forEach.call(heads, function (h) {
            h.removeAttribute("aria-sort");
          });
          th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
          rows.sort(function (a, b) {
            var order = compare(key(a.cells[col]), key(b.cells[col]));
            return ascending ? order : -order;
          });
          rows.forEach(function (row) { body.appendChild(row); });
        });
      });
    });
  var table = document.getElementById("matrix-table");
  var text = document.getElementById("matrix-filter");
  var only = document.getElementById("matrix-failing");
  var shown = document.getElementById("matrix-shown");
  if (!table || !text || !only || !table.tBodies.length) { return; }
  function apply() {
    var needle = text.value.trim().toLowerCase();
    var count = 0;
    Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
      var name = (row.getAttribute("data-name") || "").toLowerCase();
      var visible = name.indexOf(needle) !== -1 &&
        (!only.checked || row.getAttribute("data-bad") === "1");
      row.hidden = !visible;
      if (visible) { count += 1; }
    });
    if (shown) { shown.textContent = String(count); }
  }
  text.addEventListener("input", apply);
  only.addEventListener("change", apply);
})();
"""
