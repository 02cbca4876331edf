"""What model calls cost: a price table per model (``prices.json``, with the date
its figures were checked), and the cost of one call's ``usage``.

A dated model name is priced as its family (``gpt-4o-2024-08-06`` as ``gpt-4o``,
``claude-sonnet-4-5-20250929`` as ``claude-sonnet-4-5``): the longest listed name
it starts with. A model the table does not list costs ``None`` (unknown), never 0.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

TABLE = Path(__file__).with_name("prices.json")


@dataclass(frozen=True, slots=True, kw_only=True)
class Price:
    """USD per million tokens, in and out."""

    input: float
    output: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Prices:
    checked: str
    models: Mapping[str, Price]

    def of(self, model: str) -> Price | None:
        """The price of ``model``, or of the longest listed name it starts with."""
        if model in self.models:
            return self.models[model]
        family = [m for m in self.models if model.startswith(m + "-")]
        return self.models[max(family, key=len)] if family else None

    def cost(self, model: str, tokens_in: int, tokens_out: int) -> float | None:
        """USD for one call, rounded to a millionth; ``None`` for an unknown model."""
        price = self.of(model)
        if price is None:
            return None
        return round((tokens_in * price.input + tokens_out * price.output) / 1e6, 6)


@lru_cache(maxsize=1)
def prices() -> Prices:
    return load(TABLE)


def load(path: Path) -> Prices:
    raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return Prices(
        checked=str(raw["checked"]),
        models={
            name: Price(input=float(p["input"]), output=float(p["output"]))
            for name, p in raw["models"].items()
        },
    )


def tokens(endpoint: str, usage: Mapping[str, Any] | None) -> tuple[int, int]:
    """(in, out) tokens of a ``usage`` object in its endpoint's wire format."""
    if not usage:
        return 0, 0
    if endpoint == "chat.completions":
        return int(usage.get("prompt_tokens", 0)), int(
            usage.get("completion_tokens", 0)
        )
    return int(usage.get("input_tokens", 0)), int(usage.get("output_tokens", 0))
