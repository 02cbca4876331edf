"""pytest does not rewrite the harness's own modules; test files are rewritten as ever."""

from __future__ import annotations

import sys

import pytest

from harness._pytest.rewrite import PACKAGES, leave_the_harness_unrewritten

#: What the plugin imports before it unmarks the harness.
BEFORE = {
    "harness",
    "harness._version",
    "harness._pytest",
    "harness._pytest.config",
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
