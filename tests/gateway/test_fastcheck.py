"""The fast accept-path never accepts what the JSON Schema rejects."""

from __future__ import annotations

from typing import Any

import jsonschema
from hypothesis import given, settings
from hypothesis import strategies as st

from fakes import SERVICES
from harness.gateway.fastcheck import compile_check

SCHEMAS = [
    schema
    for service in SERVICES
    for op in service.operations
    for schema in (op.request, op.response)
]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


def _keys(schema: dict[str, Any]) -> list[str]:
    return sorted(schema.get("properties", {}))


@st.composite
def near_valid(draw: st.DrawFn) -> tuple[dict[str, Any], Any]:
    """An instance built from a contract's own keys with arbitrary values."""
    schema = draw(st.sampled_from(SCHEMAS))
    keys = [*_keys(schema), "unexpected"]
    instance = draw(
        st.dictionaries(st.sampled_from(keys), json_values, max_size=len(keys))
    )
    return schema, instance


@settings(max_examples=400, deadline=None)
@given(near_valid())
def test_fast_check_agrees_with_jsonschema_whenever_it_accepts(
    case: tuple[dict[str, Any], Any],
) -> None:
    schema, instance = case
    fast = compile_check(schema)
    assert fast is not None
    if fast(instance):
        assert jsonschema.Draft202012Validator(schema).is_valid(instance)


def test_every_contract_compiles_to_the_fast_path() -> None:
    assert all(compile_check(s) is not None for s in SCHEMAS)


def test_a_schema_outside_the_subset_has_no_fast_path() -> None:
    assert compile_check({"type": "string", "format": "email"}) is None


def test_the_fast_path_rejects_booleans_where_integers_are_required() -> None:
    check = compile_check({"type": "object", "properties": {"n": {"type": "integer"}}})
    assert check is not None
    assert check({"n": 3})
    assert not check({"n": True})
