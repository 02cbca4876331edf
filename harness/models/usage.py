"""What a run's model calls added up to: calls, tokens in and out, and cost.

Counted from the run's ``model_call`` history entries (one per answered model
call, see :mod:`harness.models.providers`). A call to a model the price table
does not list has no cost (``None``, never 0): ``cost_usd`` is the sum over the
priced calls, ``unpriced`` counts the others and ``unpriced_models`` names their
models, so a total never passes off a partial sum as the whole. ``cost_usd`` is
``None`` when no call was priced.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

#: The history entry of one answered model call.
MODEL_CALL = "model_call"


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelUsage:
    """The totals of some model calls (a run's, a scenario's, a session's)."""

    calls: int
    tokens_in: int
    tokens_out: int
    #: USD over the priced calls, rounded to a millionth; None: none was priced.
    cost_usd: float | None
    #: Calls whose model has no price in the table (not in ``cost_usd``).
    unpriced: int = 0
    unpriced_models: tuple[str, ...] = ()

    @property
    def tokens(self) -> int:
        return self.tokens_in + self.tokens_out

    @property
    def priced(self) -> bool:
        """Every call had a price: ``cost_usd`` is the whole cost."""
        return self.unpriced == 0 and self.cost_usd is not None

    def to_json(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "tokens": self.tokens,
            "cost_usd": self.cost_usd,
            "unpriced": self.unpriced,
            "unpriced_models": list(self.unpriced_models),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ModelUsage:
        cost = data.get("cost_usd")
        return cls(
            calls=int(data.get("calls", 0)),
            tokens_in=int(data.get("tokens_in", 0)),
            tokens_out=int(data.get("tokens_out", 0)),
            cost_usd=None if cost is None else float(cost),
            unpriced=int(data.get("unpriced", 0)),
            unpriced_models=tuple(data.get("unpriced_models", ())),
        )


def usage_of(entries: Iterable[Any]) -> ModelUsage | None:
    """The totals of the ``model_call`` entries among ``entries`` (a run's
    history), or None when there are none."""
    calls = [e.value for e in entries if e.process == "model" and e.f == MODEL_CALL]
    if not calls:
        return None
    costs = [c["cost_usd"] for c in calls if c.get("cost_usd") is not None]
    unpriced = sorted({str(c.get("model")) for c in calls if c.get("cost_usd") is None})
    return ModelUsage(
        calls=len(calls),
        tokens_in=sum(int(c.get("tokens_in") or 0) for c in calls),
        tokens_out=sum(int(c.get("tokens_out") or 0) for c in calls),
        cost_usd=round(sum(costs), 6) if costs else None,
        unpriced=len(calls) - len(costs),
        unpriced_models=tuple(unpriced),
    )


def total(usages: Iterable[ModelUsage | None]) -> ModelUsage | None:
    """The sum of several totals (None where a run made no model call), or None
    when none made any."""
    present = [u for u in usages if u is not None and u.calls]
    if not present:
        return None
    costs = [u.cost_usd for u in present if u.cost_usd is not None]
    return ModelUsage(
        calls=sum(u.calls for u in present),
        tokens_in=sum(u.tokens_in for u in present),
        tokens_out=sum(u.tokens_out for u in present),
        cost_usd=round(sum(costs), 6) if costs else None,
        unpriced=sum(u.unpriced for u in present),
        unpriced_models=tuple(sorted({m for u in present for m in u.unpriced_models})),
    )


def usd(value: float | None) -> str:
    """Dollars as reports show them: ``$0.000041``, ``$0.0012``, ``$1.50``."""
    if value is None:
        return "n/a"
    text = f"{value:.6f}".rstrip("0")
    whole, _, cents = text.partition(".")
    return f"${whole}.{cents.ljust(2, '0')}"


def describe(usage: ModelUsage) -> str:
    """One line: ``3 calls, 1,234 tokens (1,200 in, 34 out), $0.0018``."""
    calls = f"{usage.calls} model call{'s' if usage.calls != 1 else ''}"
    tokens = (
        f"{usage.tokens:,} tokens ({usage.tokens_in:,} in, {usage.tokens_out:,} out)"
    )
    return f"{calls}, {tokens}, {cost_text(usage)}"


def cost_text(usage: ModelUsage) -> str:
    """The cost, saying what it leaves out: ``$0.0018``, ``$0.0018 + 2 unpriced
    calls (my-model)``, ``cost unknown (2 unpriced calls: my-model)``."""
    if not usage.unpriced:
        return usd(usage.cost_usd)
    plural = "s" if usage.unpriced != 1 else ""
    names = ", ".join(usage.unpriced_models)
    if usage.cost_usd is None:
        return f"cost unknown ({usage.unpriced} unpriced call{plural}: {names})"
    return f"{usd(usage.cost_usd)} + {usage.unpriced} unpriced call{plural} ({names})"
