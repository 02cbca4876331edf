"""The public API stays small and documented (after httpx's test_exported_members)."""

from __future__ import annotations

import pytest

import harness


def test_all_lists_exactly_the_public_names() -> None:
    public = {name for name in dir(harness) if not name.startswith("_")}
    assert public == set(harness.__all__) - {"__version__"}
    for name in harness.__all__:
        assert getattr(harness, name) is not None


def test_every_public_name_has_a_docstring() -> None:
    for name in harness.__all__:
        if name == "__version__":
            continue
        assert (getattr(harness, name).__doc__ or "").strip(), name


def test_an_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError) as info:
        harness.nope  # noqa: B018
    assert str(info.value) == "module 'harness' has no attribute 'nope'"


def test_every_tool_error_is_a_tool_error_and_the_unanswered_ones_are_ambiguous() -> (
    None
):
    for unanswered in (
        harness.ToolTimeout("t"),
        harness.ToolConnectionError("c"),
        harness.ToolMalformedResponse("m", status=200, raw="{"),
    ):
        assert isinstance(unanswered, harness.ToolAmbiguousError)
        assert isinstance(unanswered, harness.ToolError)
        assert (unanswered.body, unanswered.headers, unanswered.retry_after) == (
            {},
            {},
            None,
        )
    assert harness.ToolTimeout("t").status == 0
    assert harness.ToolMalformedResponse("m", status=502, raw="x").status == 502
