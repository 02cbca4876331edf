"""In a session that asked for aqe, pytest rewrites asserts only in plugins'
entry-point modules, not in every module of their distributions (faker,
hypothesis, the harness): test modules keep their assert introspection."""

from __future__ import annotations

import pytest

from tests.conftest import copy_payments

CAREFUL = "harness.agents.reference:careful_refund_agent"

# Prints the rewrite hook's marks when the session ends.
MARKS_CONFTEST = """
def pytest_unconfigure(config):
    marks = sorted(config.pluginmanager.rewrite_hook._must_rewrite)
    print("MARKS " + " ".join(marks))
"""

FAILING_TEST = "def test_sum():\n    total = 1 + 1\n    assert total == 3\n"


def marks(result: pytest.RunResult) -> set[str]:
    lines = [line for line in result.stdout.lines if line.startswith("MARKS ")]
    assert len(lines) == 1, result.stdout.str()
    return set(lines[0].split()[1:])


def project(pytester: pytest.Pytester) -> pytest.Pytester:
    copy_payments(pytester)
    pytester.makeconftest(MARKS_CONFTEST)
    (pytester.path / "test_sum.py").write_text(FAILING_TEST)
    return pytester


def test_an_aqe_session_rewrites_only_the_plugins_entry_point_modules(
    pytester: pytest.Pytester,
) -> None:
    result = project(pytester).runpytest_subprocess(
        f"--aqe-agent={CAREFUL}", "test_sum.py", "-p", "no:cacheprovider"
    )

    got = marks(result)
    assert {"harness.plugin", "faker.contrib.pytest.plugin"} <= got
    assert not {"harness", "faker", "hypothesis"} & got


def test_a_test_module_keeps_its_assert_introspection_in_an_aqe_session(
    pytester: pytest.Pytester,
) -> None:
    result = project(pytester).runpytest_subprocess(
        f"--aqe-agent={CAREFUL}", "test_sum.py", "-p", "no:cacheprovider"
    )

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["E       assert 2 == 3"])


def test_a_session_that_does_not_ask_for_aqe_keeps_pytests_own_marks(
    pytester: pytest.Pytester,
) -> None:
    result = project(pytester).runpytest_subprocess(
        "test_sum.py", "-p", "no:cacheprovider"
    )

    assert {"harness", "faker", "hypothesis"} <= marks(result)
