from __future__ import annotations

from harness.gateway.formcodec import decode_form, decode_pairs


def test_bracketed_keys_nest_like_stripe_form_bodies() -> None:
    body = b"charge=ch_1&amount=1200&metadata[ticket]=tkt_9&metadata[note]=hi&expand[]=charge"
    assert decode_form(body) == {
        "charge": "ch_1",
        "amount": "1200",
        "metadata": {"ticket": "tkt_9", "note": "hi"},
        "expand": ["charge"],
    }


def test_indexed_keys_become_lists() -> None:
    assert decode_pairs([("items[0]", "a"), ("items[1]", "b")]) == {"items": ["a", "b"]}
