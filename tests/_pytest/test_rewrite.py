"""pytest does not rewrite the harness's own modules, and in a session that asked
for aqe rewrites only the plugins' entry-point modules of other distributions
(faker, hypothesis): test modules keep their assert introspection."""

from __future__ import annotations

import sys

import pytest

from harness._pytest.rewrite import PACKAGES, leave_the_harness_unrewritten
from tests.conftest import copy_payments

#: What the plugin imports before it unmarks the harness.
BEFORE = {
    "harness",
    "harness._lazy",
    "harness._version",
    "harness._pytest",
    "harness._pytest.config",
    "harness._pytest.options",
    "harness._pytest.rewrite",
    "harness.errors",
    "harness.plugin",
}


def _rewritten(module: object) -> bool:
    return (
        type(getattr(module, "__loader__", None)).__name__ == "AssertionRewritingHook"
    )


def test_the_harness_modules_this_session_imported_were_not_rewritten() -> None:
    import harness.oracles.idempotency  # noqa: F401  (one imported after the plugin)

    ours = {
        name: module
        for name, module in list(sys.modules.items())
        if name.partition(".")[0] in PACKAGES and name not in BEFORE
    }
    assert "harness.oracles.idempotency" in ours
    assert [name for name, module in ours.items() if _rewritten(module)] == []


def test_nothing_is_unmarked_twice_and_other_packages_stay_marked() -> None:
    hooks = [f for f in sys.meta_path if hasattr(f, "_must_rewrite")]
    assert hooks, "pytest's assertion-rewriting hook is installed in this session"
    assert not any(PACKAGES & hook._must_rewrite for hook in hooks)
    assert leave_the_harness_unrewritten() is False
    assert any("xdist" in hook._must_rewrite for hook in hooks)


def test_a_projects_own_assertions_are_still_rewritten(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_one="""
        def double(x):
            return 2 * x

        def test_it():
            assert double(2) == 5
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*assert 4 == 5*", "*where 4 = double(2)*"])


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


def test_an_aqe_session_rewrites_only_the_plugins_entry_point_modules_and_the_tests(
    pytester: pytest.Pytester,
) -> None:
    # one session (a fresh process: rewriting happens at import) for both checks
    result = project(pytester).runpytest_subprocess(
        f"--aqe-agent={CAREFUL}", "test_sum.py", "-p", "no:cacheprovider"
    )

    got = marks(result)
    assert "faker.contrib.pytest.plugin" in got
    assert not {"harness", "fakes", "faker", "hypothesis"} & got
    # the test module keeps its assert introspection
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["E       assert 2 == 3"])


def test_a_session_that_does_not_ask_for_aqe_keeps_pytests_own_marks(
    pytester: pytest.Pytester,
) -> None:
    result = project(pytester).runpytest_subprocess(
        "test_sum.py", "-p", "no:cacheprovider"
    )

    got = marks(result)
    assert {"faker", "hypothesis"} <= got
    assert not PACKAGES & got  # the harness's own are never rewritten


# Says which of the packages pytest imports for the installed plugins were rewritten.
LOADED_CONFTEST = (
    MARKS_CONFTEST
    + """
import sys

def pytest_sessionfinish(session):
    names = ("faker", "faker.config", "faker.contrib.pytest.plugin", "anyio", "respx")
    hook = "AssertionRewritingHook"
    print("\\nREWRITTEN " + " ".join(
        name for name in names
        if type(getattr(sys.modules.get(name), "__loader__", None)).__name__ == hook
    ))
"""
)


def rewritten(result: pytest.RunResult) -> list[str]:
    lines = [line for line in result.stdout.lines if line.startswith("REWRITTEN")]
    assert len(lines) == 1, result.stdout.str()
    return lines[0].split()[1:]


def test_aqe_runs_early_plugin_leaves_the_plugins_packages_unrewritten(
    pytester: pytest.Pytester,
) -> None:
    copy_payments(pytester)
    pytester.makeconftest(LOADED_CONFTEST)
    (pytester.path / "test_sum.py").write_text(FAILING_TEST)
    args = [f"--aqe-agent={CAREFUL}", "test_sum.py", "-p", "no:cacheprovider"]

    early = pytester.runpytest_subprocess("-p", "harness._pytest.early", *args)
    late = pytester.runpytest_subprocess(*args)

    assert rewritten(early) == ["faker.contrib.pytest.plugin"]
    assert "faker" in rewritten(late)  # imported before the session is configured
    assert marks(early) - {"harness._pytest.early"} == marks(late)  # -p marks it
    early.stdout.fnmatch_lines(["E       assert 2 == 3"])
