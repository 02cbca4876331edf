"""Token estimates: the documented rule (a token per four bytes of the prompt
fields as compact, key-sorted JSON), computed the fast way."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.models.tokens import PROMPT_FIELDS, estimate, prompt_tokens


def by_the_rule(body: dict[str, Any]) -> int:
    parts = [body[f] for f in PROMPT_FIELDS if body.get(f) not in (None, "", [])]
    return estimate(json.dumps(parts, sort_keys=True, separators=(",", ":")))


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(deadline=None)  # a shared machine's pauses are not the code under test
@given(st.dictionaries(st.sampled_from([*PROMPT_FIELDS, "model", "stream"]), JSON))
def test_prompt_tokens_follow_the_rule_for_any_json_body(body: dict[str, Any]) -> None:
    assert prompt_tokens(body) == by_the_rule(body)


def test_prompt_tokens_count_escaped_text_and_ignore_parameters() -> None:
    body = {
        "model": "gpt-5",
        "temperature": 0.2,
        "messages": [{"role": "user", "content": "Rückerstattung… 🙂"}],
        "tools": [{"name": "z", "description": "b", "input_schema": {"a": 1}}],
        "system": "",
    }
    # [[{"content":"R\u00fcckerstattung\u2026 \ud83d\ude42","role":"user"}],
    #  [{"description":"b","input_schema":{"a":1},"name":"z"}]]: 126 bytes
    assert prompt_tokens(body) == 32 == by_the_rule(body)
    assert prompt_tokens({"model": "gpt-5"}) == 1  # "[]"
