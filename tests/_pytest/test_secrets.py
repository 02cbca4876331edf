"""pytest's own text shows a run's secrets as their aliases: an item's failure
text (pytest's shortened strings too), captured output, logs and warnings."""

from __future__ import annotations

import pytest

from harness._pytest.secrets import _redacted_warning, redact
from harness.run import prepare_run, run_seed
from harness.scenario.loader import load_scenario
from harness.world.secrets import Secrets
from tests.conftest import ROOT

KEY = "sk_test_728jabcdefgh402ozwzo00rq6"


def book() -> Secrets:
    secrets = Secrets()
    secrets.add(KEY, "credential")
    return secrets


def test_a_secret_shortened_in_the_middle_is_aliased_in_pytests_text() -> None:
    text = "assert 'sk_test_728j...402ozwzo00rq6' == 'x'; k=sk_test...rq6,"

    assert redact(text, book()) == (
        "assert '<secret:credential:1>' == 'x'; k=<secret:credential:1>,"
    )
    assert redact("a...b and sk_...6", book()) == "a...b and sk_...6"  # too little


def test_a_python_tests_failure_text_and_captured_output_show_only_aliases(
    pytester: pytest.Pytester,
) -> None:
    refund_ok = repr(str(ROOT / "scenarios" / "payments" / "refund_ok.yaml"))
    pytester.makepyfile(
        test_mine=f"""
import logging
import warnings

def agent(task, env):
    return {{"status": "done", "summary": env.identity.api_key}}

def test_leaks(aqe_run):
    result = aqe_run({refund_ok}, agent=agent)
    key = result.agent_result.summary  # the run's credential, wherever the agent ran
    print("my key", key)
    logging.getLogger("mine").warning("logged %s", key)
    warnings.warn("my key " + key)
    assert key == "nothing"
"""
    )
    key = prepare_run(
        load_scenario(ROOT / "scenarios" / "payments" / "refund_ok.yaml"),
        seed=run_seed(0, "refund_ok"),
    ).identity.api_key

    result = pytester.runpytest(
        "--aqe-agent=harness.agents.library:careful_agent",
        "-W",
        "always::UserWarning",
        "-o",
        "log_cli=true",
    )

    result.assert_outcomes(failed=1, warnings=1)
    output = result.stdout.str()
    assert key not in output
    result.stdout.fnmatch_lines(
        [
            "WARNING *mine:test_mine.py:* logged <secret:credential:1>",  # live
            "E       AssertionError: assert '<secret:credential:1>' == 'nothing'",
            "*Captured stdout call*",
            "my key <secret:credential:1>",
            "*Captured log call*",
            "WARNING *mine:test_mine.py:* logged <secret:credential:1>",
            "*UserWarning: my key <secret:credential:1>",
        ]
    )


def test_a_warning_keeps_its_class_with_its_text_redacted() -> None:
    class Odd(UserWarning):
        def __str__(self) -> str:
            return f"odd {KEY}"

    plain = _redacted_warning(UserWarning(f"key {KEY}", 2), book())
    odd = _redacted_warning(Odd(), book())
    same = UserWarning("nothing secret")

    assert type(plain) is UserWarning
    assert plain.args == ("key <secret:credential:1>", 2)
    assert odd == "odd <secret:credential:1>"  # its text does not come from args
    assert _redacted_warning(same, book()) is same
