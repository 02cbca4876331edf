"""Token counts for answers that do not carry their own ``usage``.

A scripted model rarely says how many tokens its turn cost; the harness
estimates, the same way every time: one token per four bytes of UTF-8 text
(OpenAI's rule of thumb for English), at least one per piece. Recorded and
replayed answers keep the provider's own counts.
"""

from __future__ import annotations

import json
from typing import Any

#: Request fields that are sent to the model as text (everything else is a
#: parameter: model, temperature, stream, ...).
PROMPT_FIELDS = ("messages", "system", "tools", "input", "instructions")


def estimate(text: str) -> int:
    return max(1, -(-len(text.encode()) // 4)) if text else 0


#: Compact JSON, every character ASCII (so one byte each in UTF-8). Keys are
#: not sorted: their order does not change the length, which is all that counts.
#: A body comes from JSON, so it has no cycles to look for.
_COMPACT = json.JSONEncoder(separators=(",", ":"), check_circular=False)


def prompt_tokens(body: dict[str, Any]) -> int:
    """The estimated input tokens of a request body: :func:`estimate` of its
    prompt fields as compact JSON with sorted keys (computed without sorting or
    encoding: a large request's tools are most of a model call's cost here)."""
    parts = [body[f] for f in PROMPT_FIELDS if body.get(f) not in (None, "", [])]
    return max(1, -(-len(_COMPACT.encode(parts)) // 4))
