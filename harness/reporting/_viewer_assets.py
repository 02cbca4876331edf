"""The run viewer's style sheet and script (:mod:`harness.reporting.viewer`).

The script renders a run's story when it is opened, from the JSON block embedded
for it, with DOM calls only (``textContent``, never ``innerHTML``): every value of
a trace is data, never markup.
"""

from __future__ import annotations

CSS = """
#runs-table td, #runs-table th { white-space: nowrap; }
#runs-table tr.open > * { background: var(--panel); }
button.open-run { font: inherit; font-size: 12px; padding: 0 8px; cursor: pointer;
  border: 1px solid var(--line); border-radius: 4px; background: var(--bg); }
button.open-run[aria-expanded="true"] { background: var(--fg); color: var(--bg); }
#runs-table tr.story-row > td { padding: 0; background: var(--bg);
  white-space: normal; }
#runs-table .story td, #runs-table .story th { white-space: normal; }
.story .tag.sev { color: #fff; background: var(--fail); }
.story .tag.passed { color: #fff; background: var(--ok); }
.story .tag.failed { color: #fff; background: var(--fail); }
.story { padding: 10px 16px 18px; border-left: 4px solid var(--line);
  width: min(1260px, calc(100vw - 64px)); }
.story.failed { border-left-color: var(--fail); }
.story.passed { border-left-color: var(--ok); }
.story h3 { font-size: 14px; margin: 16px 0 6px; }
.story h4 { font-size: 13px; margin: 10px 0 4px; }
.story .facts { margin: 4px 0; }
.story .facts span { margin-right: 14px; }
.story dl.input { display: grid; grid-template-columns: max-content auto;
  gap: 0 12px; margin: 4px 0; }
.story dl.input dt { color: var(--muted); }
.story dl.input dd { margin: 0; overflow-wrap: anywhere; }
.finding { border: 1px solid var(--fail); background: var(--fail-bg);
  border-radius: 6px; padding: 6px 10px; margin: 0 0 8px; }
.finding p { margin: 0 0 4px; color: var(--fg); }
.finding ul { margin: 0; padding-left: 18px; }
.finding li { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  font-size: 12.5px; }
.finding a, .story a.ref { font-family: ui-monospace, SFMono-Regular, Menlo,
  Consolas, monospace; font-size: 12.5px; }
table.timeline { width: 100%; }
table.timeline td { vertical-align: top; font-size: 12.5px;
  overflow-wrap: anywhere; }
table.timeline td.saw, table.timeline td.real { min-width: 120px; }
#runs-table table.timeline td.t, #runs-table table.timeline td.ref,
#runs-table table.timeline td.who { white-space: nowrap;
  font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
table.timeline tr.fault > td { background: var(--mixed-bg); }
table.timeline tr.ambiguous td.saw, table.timeline tr.ambiguous td.real {
  background: var(--fail-bg); color: var(--fail); font-weight: 600; }
table.timeline tr.effect > td { background: var(--ok-bg); }
table.timeline tr.human > td { background: var(--regression-bg); }
table.timeline tr.model > td { background: #ddf4ff; }
table.timeline tr.bad > td { background: var(--fail-bg); }
table.timeline tr:target > td, table.timeline tr.flash > td {
  outline: 2px solid var(--regression); outline-offset: -2px; }
.cited { display: inline-block; font-size: 11px; font-weight: 700; color: #fff;
  background: var(--fail); border-radius: 4px; padding: 0 5px; margin-left: 6px; }
.policy-line { display: block; color: var(--muted); font-size: 12px; }
.policy-line.denied { color: var(--fail); font-weight: 600; }
.story pre { white-space: pre-wrap; overflow-wrap: anywhere; max-height: 360px;
  overflow: auto; background: var(--panel); padding: 6px 8px; margin: 4px 0;
  font-size: 12px; }
.story .bkey { font-weight: 700; }
.story .missing { color: var(--fail); }
"""

JS = r"""
(function () {
  "use strict";
  var table = document.getElementById("runs-table");
  if (!table || !table.tBodies.length) { return; }
  var REF = "@aqe:shared";
  var COLUMNS = table.tHead.rows[0].cells.length;

  function el(tag, cls, children) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    add(node, children);
    return node;
  }
  function add(node, children) {
    if (children === undefined || children === null) { return node; }
    if (!Array.isArray(children)) { children = [children]; }
    children.forEach(function (child) {
      if (child === undefined || child === null || child === "") { return; }
      if (Array.isArray(child)) { add(node, child); return; }
      node.appendChild(typeof child === "object" ? child :
        document.createTextNode(String(child)));
    });
    return node;
  }
  function code(text) { return el("code", null, text); }
  // format_offset of harness/world/clock.py: +0.050s, +2m05.0s, +1h02m03.5s
  function offset(seconds) {
    seconds = Number(seconds) || 0;
    if (seconds < 60) { return "+" + seconds.toFixed(3) + "s"; }
    var minutes = Math.floor(seconds / 60), secs = seconds - 60 * minutes;
    var hours = Math.floor(minutes / 60);
    minutes -= 60 * hours;
    var s = (secs < 10 ? "0" : "") + secs.toFixed(1) + "s";
    var m = (minutes < 10 ? "0" : "") + minutes + "m";
    return hours ? "+" + hours + "h" + m + s : "+" + minutes + "m" + s;
  }
  function short(value) {
    if (value === null) { return "null"; }
    if (typeof value === "object") { return JSON.stringify(value); }
    return String(value);
  }
  // {amount: 1200, charge: ch_...}: how the oracles' evidence writes parameters
  function params(obj) {
    if (!obj || typeof obj !== "object") { return short(obj); }
    return "{" + Object.keys(obj).sort().map(function (k) {
      return k + ": " + short(obj[k]);
    }).join(", ") + "}";
  }
  function folded(label, value) {
    var text = params(value);
    if (text.length <= 160) { return code(text); }
    var details = el("details", null, el("summary", null,
      [code(text.slice(0, 120) + "…"), " " + label]));
    details.appendChild(el("pre", null, JSON.stringify(value, null, 2)));
    return details;
  }
  function whole(label, value) {
    return el("details", null, [el("summary", null, label),
      el("pre", null, JSON.stringify(value, null, 2))]);
  }
  function clip(text, width) {
    return text.length > width ? text.slice(0, width - 1) + "\u2026" : text;
  }
  function resolve(value, shared) {
    if (Array.isArray(value)) {
      return value.map(function (v) { return resolve(v, shared); });
    }
    if (value && typeof value === "object") {
      var keys = Object.keys(value);
      if (keys.length === 1 && keys[0] === REF) { return shared[value[REF]]; }
      var out = {};
      keys.forEach(function (k) { out[k] = resolve(value[k], shared); });
      return out;
    }
    return value;
  }
  function load(index) {
    var node = document.getElementById("run-" + index + "-data");
    if (!node) { return null; }
    var story = JSON.parse(node.textContent);
    var shared = [];
    (story.shared || []).forEach(function (v) { shared.push(resolve(v, shared)); });
    story.history = resolve(story.history || [], shared);
    return story;
  }

  function anchor(run, ref) {
    var found = /^(history|ledger)#(\d+)$/.exec(ref || "");
    return found ? "run-" + run + "-" + found[1] + "-" + found[2] : null;
  }
  function refLink(run, ref) {
    var target = anchor(run, ref);
    if (!target) { return code(ref); }
    var link = el("a", "ref", ref);
    link.href = "#" + target;
    return link;
  }
  function entry(row) {
    return { index: row[0], time: row[1], process: row[2], type: row[3],
      f: row[4], call: row[5], value: row[6] || {} };
  }
  function saw(v) {
    if (v.seen !== "response") { return v.seen || ""; }
    var text = "HTTP " + v.status;
    if (v.ref) { text += " \u2192 " + v.ref; }
    if (v.error) {
      var error = v.error;
      text += ": " + (typeof error === "object" ?
        (error.message || error.code || JSON.stringify(error)) : String(error));
    }
    if (v.replayed) { text += " (replayed)"; }
    return text;
  }
  function really(run, v) {
    var committed = v.committed || [];
    if (committed.length) {
      var parts = ["committed "];
      committed.forEach(function (seq, i) {
        if (i) { parts.push(", "); }
        parts.push(refLink(run, "ledger#" + seq));
      });
      return parts;
    }
    if (v.actual === "pending") { return "pending: it commits later"; }
    if (v.actual === "none" || v.seen) { return "nothing committed"; }
    return "";
  }
  function reply(response) {
    // what a model answered: Chat Completions, Responses or Messages
    if (!response || typeof response !== "object") { return ""; }
    var parts = [];
    function tool(name, args) {
      parts.push("calls " + name + "(" + (typeof args === "string" ? args :
        JSON.stringify(args)) + ")");
    }
    (response.choices || []).forEach(function (choice) {
      var m = choice.message || {};
      if (m.content) { parts.push(m.content); }
      (m.tool_calls || []).forEach(function (c) {
        tool((c.function || {}).name, (c.function || {}).arguments);
      });
    });
    (response.output || []).forEach(function (item) {
      if (item.type === "function_call") { tool(item.name, item.arguments); }
      (item.content || []).forEach(function (c) {
        if (c.text) { parts.push(c.text); }
      });
    });
    if (response.type === "message") {
      (response.content || []).forEach(function (c) {
        if (c.type === "text") { parts.push(c.text); }
        if (c.type === "tool_use") { tool(c.name, c.input); }
      });
    }
    return parts.join(" \u00b7 ");
  }
  function lastMessage(body) {
    var messages = (body && (body.messages || body.input)) || [];
    if (!Array.isArray(messages) || !messages.length) { return ""; }
    var last = messages[messages.length - 1];
    var content = last.content;
    if (Array.isArray(content)) {
      content = content.map(function (c) {
        return c.text || c.content || c.output || (c.type ? "[" + c.type + "]" : "");
      }).join(" ");
    }
    if (content === undefined && last.output !== undefined) { content = last.output; }
    return messages.length + " message" + (messages.length === 1 ? "" : "s") +
      ", the last: " + (last.role || last.type || "") + ": " +
      clip(short(content), 240);
  }

  // One history entry: what happened, what the agent saw, what really happened.
  function describe(run, h, calls) {
    var v = h.value, out = { cls: "", what: [], saw: "", real: "" };
    if (h.process === "agent" && h.type === "invoke") {
      calls[h.call] = h;
      var turn = lastMessage(v.params);
      out.what = ["call #" + h.call + " ", code((v.service || "") + "." + h.f), " ",
        turn ? [turn, " ", whole("(the whole request)", v.params)] :
          folded("(the request)", v.params),
        " \u00b7 idempotency key: " + (v.idempotency_key || "none")];
      if (v.door) { out.what.push(" \u00b7 via " + v.door); }
      if (v.service === "ops") { out.cls = "human"; }
      return out;
    }
    if (h.process === "agent" && v.seen !== undefined) {
      out.what = ["call #" + h.call + " " + h.f + " answered"];
      out.saw = saw(v);
      out.real = really(run, v);
      if (h.type === "info") { out.cls = "ambiguous"; }
      else if (h.type === "fail") { out.cls = "bad"; }
      (v.policy || []).forEach(function (d) {
        out.what.push(el("span", "policy-line" + (d.verdict === "allowed" ? "" :
          " denied"), "policy: " + d.verdict + " (" + d.kind + ": " + d.rule + ")" +
          (d.approval ? " approval " + short(d.approval) : "")));
      });
      return out;
    }
    if (h.process === "nemesis") {
      out.cls = "fault";
      if (v.fault) {
        out.what = ["fault ", code(v.fault), " injected: " + (v.kind || h.f) +
          (h.call ? " on call #" + h.call : "") + (v.target ? " " + v.target : "") +
          (v.params ? " " + params(v.params) : "")];
      } else {
        out.what = [h.f + (h.call ? " of call #" + h.call : "") + " " +
          params(v)];
        if (v.committed) { out.real = really(run, v); }
      }
      return out;
    }
    if (h.process === "human") {
      out.cls = "human";
      out.what = [h.f === "approval_decided" ? "human decided approval " +
        v.approval + ": " + v.status + " (" + v.action + ")" : h.f + " " + params(v)];
      return out;
    }
    if (h.process === "model") {
      out.cls = "model";
      if (h.f === "model_call") {
        out.what = ["model call (" + v.provider + " " + v.endpoint + ", " + v.model +
          (v.stream ? ", streamed" : "") + "): " + v.tokens_in + " tokens in, " +
          v.tokens_out + " out" + (v.cost_usd !== null && v.cost_usd !== undefined ?
          ", $" + v.cost_usd : "")];
        out.saw = reply(v.response);
        out.what.push(" ", whole("(the whole answer)", v.response));
      } else {
        out.cls = "bad";
        out.what = ["model " + h.f + ": " + (v.error || params(v))];
      }
      return out;
    }
    out.cls = h.process === "security" || h.type === "fail" ? "bad" : "";
    out.what = [h.process + " " + h.type + " " + h.f +
      (h.call ? " (call #" + h.call + ")" : "") + " " + params(v)];
    return out;
  }

  function cell(cls, content) { return el("td", cls, content); }
  function timeline(run, story, cited) {
    var head = el("thead", null, el("tr", null, ["entry", "simulated time", "who",
      "what happened", "the agent saw", "what really happened"].map(function (t) {
        return el("th", null, t);
      })));
    var body = el("tbody");
    var calls = {}, byAt = {};
    story.effects.forEach(function (e) { (byAt[e.at] = byAt[e.at] || []).push(e); });
    function citedBy(ref) {
      return (cited[ref] || []).map(function (o) { return el("span", "cited", o); });
    }
    function effectRow(e) {
      var ref = "ledger#" + e.seq;
      var tr = el("tr", "effect", [cell("ref", [ref, citedBy(ref)]),
        cell("t", offset(e.time)), cell("who", e.service),
        cell(null, ["effect ", code(e.service + "." + e.operation), " ",
          el("span", "bkey", e.business_key), " ", code(params(e.params)),
          e.ref ? " \u2192 " + e.ref : "", e.call ? " (call #" + e.call + ")" : "",
          e.reversible === false ? " \u00b7 irreversible" : "",
          e.compensation ? " \u00b7 undone by " + e.compensation : ""]),
        cell(null, ""), cell(null, "committed")]);
      tr.id = "run-" + run + "-ledger-" + e.seq;
      body.appendChild(tr);
    }
    story.history.forEach(function (row, position) {
      (byAt[position] || []).forEach(effectRow);
      var h = entry(row), d = describe(run, h, calls), ref = "history#" + h.index;
      var tr = el("tr", d.cls, [cell("ref", [ref, citedBy(ref)]),
        cell("t", offset(h.time)), cell("who", h.process), cell(null, d.what),
        cell("saw", d.saw), cell("real", d.real)]);
      tr.id = "run-" + run + "-history-" + h.index;
      body.appendChild(tr);
    });
    (byAt[story.history.length] || []).forEach(effectRow);
    return el("div", "scroll", el("table", "timeline", [head, body]));
  }

  function simpleTable(headings, rows) {
    var head = el("thead", null, el("tr", null, headings.map(function (t) {
      return el("th", null, t);
    })));
    return el("div", "scroll", el("table", null, [head, el("tbody", null,
      rows.map(function (cells) {
        return el("tr", null, cells.map(function (c) { return el("td", null, c); }));
      }))]));
  }

  function render(run, story) {
    var box = el("div", "story " + (story.passed ? "passed" : "failed"));
    box.id = "run-" + run + "-story";
    var verdict = story.verdict || {};
    box.appendChild(el("p", "facts", [
      el("span", null, [story.passed ? el("span", "tag passed", "pass") :
        el("span", "tag failed", "FAIL"), " ", code(story.scenario)]),
      el("span", null, "seed " + story.seed + " [" + story.seed_index + "]"),
      el("span", null, ["agent ", code(story.agent)]),
      story.policy_pack ?
        el("span", null, ["policy pack ", code(story.policy_pack)]) : "",
      verdict.simulated_seconds !== undefined ? el("span", null, "simulated " +
        offset(verdict.simulated_seconds) + ", " + verdict.tool_calls +
        " tool calls") : ""
    ]));
    if (verdict.agent_status) {
      box.appendChild(el("p", "facts", ["the agent said: ", code(verdict.agent_status +
        ": " + (verdict.agent_summary || ""))]));
    }
    if (story.trace) {
      box.appendChild(el("p", "facts note", ["trace ", code(story.trace),
        story.replay ? ["; reproduce: ", code(story.replay)] : ""]));
    }
    if (story.missing) {
      box.appendChild(el("p", "missing", "No story: " + story.missing + "."));
      return box;
    }
    if (story.task) {
      box.appendChild(el("h3", null, "Task"));
      box.appendChild(el("p", null, story.task.instructions));
      var input = el("dl", "input");
      Object.keys(story.task.input || {}).sort().forEach(function (k) {
        add(input, [el("dt", null, k),
          el("dd", null, code(short(story.task.input[k])))]);
      });
      box.appendChild(input);
    }
    var cited = {};
    var failing = story.scores.filter(function (s) { return !s.passed; });
    if (failing.length) {
      box.appendChild(el("h3", null, "Why it failed"));
      failing.forEach(function (s) {
        var items = (s.evidence || []).map(function (e) {
          (cited[e.ref] = cited[e.ref] || []).push(s.oracle);
          return el("li", null, [refLink(run, e.ref), " t=" + offset(e.time) + " ",
            e.text]);
        });
        var finding = el("div", "finding", [el("p", null, [
          el("span", "tag sev", s.severity), " ", el("strong", null, s.oracle),
          ": " + s.explanation]), items.length ? el("ul", null, items) : ""]);
        if (s.details && Object.keys(s.details).length) {
          finding.appendChild(folded("(the oracle's details)", s.details));
        }
        box.appendChild(finding);
      });
    }
    box.appendChild(el("h3", null, "Timeline"));
    box.appendChild(story.history.length || story.effects.length ?
      timeline(run, story, cited) : el("p", "note", "The agent made no tool call."));
    box.appendChild(el("h3", null, "Effects ledger"));
    box.appendChild(story.effects.length ? simpleTable(["entry", "simulated time",
      "business key", "effect", "parameters", "result", "call", "reversible"],
      story.effects.map(function (e) {
        return [refLink(run, "ledger#" + e.seq), offset(e.time),
          el("span", "bkey", e.business_key), code(e.service + "." + e.operation),
          code(params(e.params)), e.ref || "", e.call ? "#" + e.call : "",
          e.reversible === null ? "unknown" : e.reversible ? "yes" +
            (e.compensation ? " (" + e.compensation + ")" : "") : "no"];
      })) : el("p", "note", "No effect was committed."));
    var hist = story.history.map(entry);
    box.appendChild(el("h3", null, "Faults"));
    box.appendChild(story.faults.length ? el("ul", null, story.faults.map(function (f) {
      var fired = hist.filter(function (h) {
        return h.process === "nemesis" && h.value.fault === f.fault;
      });
      return el("li", null, [f.text || code(f.fault), f.text ? "" : " (" + f.kind +
        ") fired on " + f.fired + " of " + f.matched + " matching calls",
        fired.length ? " at " : "", fired.map(function (h, i) {
          return [i ? ", " : "", refLink(run, "history#" + h.index)];
        })]);
    })) : el("p", "note", "No fault was planned."));
    var decisions = [];
    hist.forEach(function (h) {
      (h.value.policy || []).forEach(function (d) {
        decisions.push([refLink(run, "history#" + h.index), "#" + h.call + " " + h.f,
          d.verdict, d.kind, code(d.rule), d.approval ? short(d.approval) : ""]);
      });
    });
    box.appendChild(el("h3", null, "Policy decisions"));
    box.appendChild(decisions.length ? simpleTable(["entry", "call", "verdict",
      "kind", "rule", "approval"], decisions) :
      el("p", "note", "No call was checked against the policy pack."));
    var humans = hist.filter(function (h) {
      return h.process === "human" ||
        (h.type === "invoke" && h.value.service === "ops");
    });
    box.appendChild(el("h3", null, "Human steps"));
    box.appendChild(humans.length ? el("ul", null, humans.map(function (h) {
      return el("li", null, [refLink(run, "history#" + h.index), " t=" +
        offset(h.time) + " ", h.process === "human" ? describe(run, h, {}).what :
        ["asked ops: " + h.f + " ", code(params(h.value.params))]]);
    })) : el("p", "note", "No approval or escalation."));
    var models = hist.filter(function (h) { return h.process === "model"; });
    if (models.length || story.model) {
      box.appendChild(el("h3", null, "Model calls"));
      if (story.model) {
        box.appendChild(el("p", null, story.model.calls + " model calls, " +
          story.model.tokens_in + " tokens in, " + story.model.tokens_out +
          " out, $" + story.model.cost_usd));
      }
      box.appendChild(el("ul", null, models.map(function (h) {
        var d = describe(run, h, {});
        return el("li", null, [refLink(run, "history#" + h.index), " t=" +
          offset(h.time) + " ", d.what[0], d.saw ? ": " + d.saw : ""]);
      })));
    }
    box.appendChild(el("h3", null, "Oracles"));
    box.appendChild(simpleTable(["oracle", "verdict", "severity", "value",
      "explanation"], story.scores.map(function (s) {
        var judged = !(s.passed && s.value === null);
        return [code(s.oracle), el("span", "cell " + (!judged ? "none" : s.passed ?
          "ok" : "fail"), !judged ? "-" : s.passed ? "ok" : "FAIL"), s.severity,
          s.value === null ? "" : String(s.value), s.explanation];
      })));
    if (story.output) {
      box.appendChild(el("h3", null, "What the agent printed"));
      box.appendChild(el("pre", null, story.output));
    }
    if (story.warnings.length || story.warnings_dropped) {
      box.appendChild(el("h3", null, "Warnings"));
      box.appendChild(el("ul", null, story.warnings.map(function (w) {
        return el("li", null, w.category + " at " + w.where + ": " + w.message +
          (w.count > 1 ? " (x" + w.count + ")" : ""));
      }).concat(story.warnings_dropped ? [el("li", null, "and " +
        story.warnings_dropped + " more not kept")] : [])));
    }
    return box;
  }

  function open(row, show) {
    var run = row.getAttribute("data-run");
    var button = row.querySelector("button.open-run");
    var next = row.nextElementSibling;
    var isOpen = next && next.classList.contains("story-row");
    if (show === undefined) { show = !isOpen; }
    if (show && !isOpen) {
      var story = load(run);
      var td = el("td");
      td.colSpan = COLUMNS;
      td.appendChild(story ? render(run, story) :
        el("p", "missing", "This report holds no story for this run."));
      row.parentNode.insertBefore(el("tr", "story-row", td), row.nextSibling);
    } else if (!show && isOpen) {
      next.parentNode.removeChild(next);
    }
    row.classList.toggle("open", show);
    if (button) { button.setAttribute("aria-expanded", show ? "true" : "false"); }
  }
  table.tBodies[0].addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button.open-run") : null;
    if (button) { open(button.closest("tr")); }
  });
  function follow() {
    var found = /^#run-(\d+)(?:-|$)/.exec(window.location.hash);
    if (!found) { return; }
    var row = document.getElementById("run-" + found[1]);
    if (!row) { return; }
    open(row, true);
    var target = document.getElementById(window.location.hash.slice(1));
    Array.prototype.forEach.call(document.querySelectorAll("#runs .flash"),
      function (node) { node.classList.remove("flash"); });
    if (target) {
      if (target !== row) { target.classList.add("flash"); }
      target.scrollIntoView({ block: "center" });
    }
  }
  window.addEventListener("hashchange", follow);
  follow();

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
