"""Stripe-style form encoding: ``metadata[order]=42&expand[]=charge``."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_PART = re.compile(r"\[([^\[\]]*)\]")


def decode_pairs(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Nest bracketed keys: ``a[b]=1`` → ``{"a": {"b": "1"}}``; ``a[]`` → a list."""
    out: dict[str, Any] = {}
    for raw_key, value in pairs:
        found = _KEY.match(raw_key)
        if found is None or not found.group(2):
            out[raw_key] = value
            continue
        parts = [found.group(1), *_PART.findall(found.group(2))]
        node: Any = out
        for i, part in enumerate(parts[:-1]):
            nxt = parts[i + 1]
            want_list = nxt == "" or nxt.isdigit()
            if isinstance(node, list):
                node.append([] if want_list else {})
                node = node[-1]
                continue
            node = node.setdefault(part, [] if want_list else {})
        last = parts[-1]
        if isinstance(node, list):
            node.append(value)
        else:
            node[last] = value
    return out


def decode_form(body: bytes) -> dict[str, Any]:
    return decode_pairs(parse_qsl(body.decode(), keep_blank_values=True))
