"""Model tokens and cost in a session, as CI sees them: totals in summary.json,
the terminal summary, summary.md and the HTML report, and a baseline comparison
that flags a doubled ``model_tokens`` as a regression (exit 6).

The session's runs get their scripted model from ``--aqe-model``.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from harness.reporting.gate import ExitCode
from tests.conftest import copy_payments

pytest.importorskip("openai")

SCENARIO = "scenarios/payments/refund_ok.yaml"
AGENT = "--aqe-agent=llm_agent:agent"
TERSE_MODEL = "--aqe-model=llm_models:terse"
VERBOSE_MODEL = "--aqe-model=llm_models:verbose"
CAREFUL = "--aqe-agent=harness.agents.reference:careful_refund_agent"

AGENT_MODULE = '''
import json

import openai

from harness import AgentResult


def agent(task, env):
    """A tool-calling loop on the openai SDK, as its docs show it."""
    client = openai.OpenAI()
    messages = [{"role": "user", "content": task.instructions}]
    tools = env.tools.specs(format="openai")
    for _ in range(5):
        completion = client.chat.completions.create(
            model="gpt-5", messages=messages, tools=tools
        )
        message = completion.choices[0].message
        if not message.tool_calls:
            return AgentResult(status="done", summary=message.content or "")
        messages.append(message.model_dump(exclude_none=True))
        for call in message.tool_calls:
            result = env.tools.call(
                call.function.name, **json.loads(call.function.arguments)
            )
            messages.append(
                {"role": "tool", "tool_call_id": call.id, "content": json.dumps(result)}
            )
    return AgentResult(status="failed", summary="too many turns")
'''

MODELS_MODULE = '''
import re


def _answer(call, scale):
    """Refunds as the task says, then says so; each call reports its usage."""
    first = call.body["messages"][0]["content"]
    amount, charge = re.search(r"Refund (\\d+) usd on charge (\\S+) ", first).groups()
    if len(call.body["messages"]) == 1:
        args = {"charge": charge, "amount": int(amount), "idempotency_key": "r-1"}
        answer = call.tool_call("create_refund", args)
    else:
        answer = call.text(f"Refunded {amount} on {charge}.")
    in_, out = 1000 * scale, 200 * scale
    usage = {"prompt_tokens": in_, "completion_tokens": out, "total_tokens": in_ + out}
    return {**answer, "usage": usage}


def terse(call):
    return _answer(call, 1)


def verbose(call):  # a prompt change that doubles every call's tokens
    return _answer(call, 2)
'''


@pytest.fixture
def project(pytester: pytest.Pytester) -> Any:
    pytester.makeini("[pytest]\npythonpath = .\n")
    copy_payments(pytester)
    pytester.makepyfile(
        llm_agent=AGENT_MODULE, llm_models=textwrap.dedent(MODELS_MODULE)
    )
    return pytester


def latest(project: pytest.Pytester, name: str) -> Path:
    return project.path / "reports" / "latest" / name


def summary_of(project: pytest.Pytester) -> dict[str, Any]:
    return json.loads(latest(project, "summary.json").read_text())  # type: ignore[no-any-return]


#: refund_ok with the terse model: a tool call, then the answer; 1,000 tokens in
#: and 200 out a call at gpt-5's $1.25 / $10 per million tokens.
TERSE = {
    "calls": 2,
    "tokens_in": 2000,
    "tokens_out": 400,
    "tokens": 2400,
    "cost_usd": 0.0065,
    "unpriced": 0,
    "unpriced_models": [],
}


def test_token_and_cost_totals_appear_in_every_report(project: pytest.Pytester) -> None:
    result = project.runpytest(SCENARIO, AGENT, TERSE_MODEL)

    assert result.ret == ExitCode.PASS, result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "model usage: 2 model calls, 2,400 tokens (2,000 in, 400 out), $0.0065"
            " (at prices checked 2026-12-04)",
            "  refund_ok  2 model calls, 2,400 tokens (2,000 in, 400 out), $0.0065",
        ]
    )
    summary = summary_of(project)
    assert summary["model"] == {**TERSE, "prices_checked": "2026-12-04"}
    (row,) = summary["scenarios"]
    assert row["model"] == TERSE
    (record,) = summary["results"]
    assert record["model"] == TERSE
    assert record["tool_calls"] == 1
    markdown = latest(project, "summary.md").read_text()
    assert "| `refund_ok` | 2 | 2,000 | 400 | 2,400 | $0.0065 |" in markdown
    assert "| **all** | 2 | 2,000 | 400 | 2,400 | $0.0065 |" in markdown
    html = latest(project, "report.html").read_text()
    assert '<a href="#models">Model usage</a>' in html
    assert (
        '<tr><th scope="row">all scenarios</th><td class="num" data-v="2">2</td>'
        '<td class="num" data-v="2000">2,000</td><td class="num" data-v="400">400'
        '</td><td class="num" data-v="2400">2,400</td><td class="num"'
        ' data-v="0.006500">$0.0065</td></tr>'
    ) in html
    assert "checked 2026-12-04" in html


def test_a_doubled_model_tokens_is_a_regression_under_a_model_tokens_rule(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    saved = project.runpytest(SCENARIO, AGENT, TERSE_MODEL, "--aqe-save-baseline")
    assert saved.ret == ExitCode.PASS, saved.stdout.str()
    baseline = json.loads((project.path / "reports" / "baseline.json").read_text())
    metrics = baseline["scenarios"]["refund_ok"]["metrics"]
    assert metrics["model_tokens"]["values"] == [2400]
    assert metrics["model_cost"]["values"] == [0.0065]

    rule = "--aqe-compare-fail=model_tokens:20%"
    result = project.runpytest(SCENARIO, AGENT, VERBOSE_MODEL, rule)

    assert result.ret == ExitCode.REGRESSION
    tokens = "refund_ok: model_tokens 2400.00 -> 4800.00 (+2400.00, n=1/1)"
    result.stdout.fnmatch_lines(
        [
            f"  REGRESSED {tokens}",
            "1/1 scenario runs passed; aqe gate: REGRESSION (exit 6)",
            f"  {tokens}",
        ]
    )
    summary = summary_of(project)
    assert summary["gate"]["failed"] == [tokens]
    # the cost has no rule: an efficiency metric's move is a change, not a regression
    assert summary["comparison"]["regressions"] == [tokens]
    markdown = latest(project, "summary.md").read_text()
    assert (
        "| `refund_ok` | `model_cost` | changed | $0.0065 | $0.013 | +$0.0065 |"
    ) in markdown

    # a tolerant rule lets the same run through (the gate the session applies,
    # applied again by aqe compare: no third session of model SDK imports)
    from harness.cli import main

    base = project.path / "reports" / "baseline.json"
    run = (project.path / "reports" / "latest").resolve()
    monkeypatch.chdir(project.path)
    tolerant = ["--compare-fail=model_tokens:100%", "--fail-on-regression"]
    assert main(["compare", str(base), str(run), *tolerant]) == ExitCode.PASS
    strict = ["--compare-fail=model_tokens:20%", "--fail-on-regression"]
    assert main(["compare", str(base), str(run), *strict]) == ExitCode.REGRESSION


def test_a_session_without_model_calls_prints_nothing_new(
    project: pytest.Pytester,
) -> None:
    result = project.runpytest(SCENARIO, CAREFUL, TERSE_MODEL)  # never called

    assert result.ret == ExitCode.PASS
    assert "model usage" not in result.stdout.str()
    summary = summary_of(project)
    assert summary["model"] is None
    assert summary["scenarios"][0]["model"] is None
    assert "model" not in summary["results"][0]
    assert "Model usage" not in latest(project, "summary.md").read_text()
    assert "Model usage" not in latest(project, "report.html").read_text()
