"""A scripted model written as data: the list of turns a scenario gives.

Each turn answers one model call, in order (the run's first model call gets the
first turn)::

    model:
      turns:
        - tool_call: {name: retrieve_charge, arguments: {charge: $charge.id}}
        - tool_calls:
            - {name: create_refund, arguments: {charge: $charge.id, amount: 500}}
          text: Refunding now.
        - text: The charge is refunded.

A turn is ``text``, ``tool_call``, ``tool_calls`` (with an optional ``text``), or
``body`` (a whole response body in the provider's own format, sent as it is).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from harness.errors import HarnessError
from harness.models.call import ModelCall

KINDS = ("text", "tool_call", "tool_calls", "body")


class TurnError(HarnessError):
    """A scripted turn that cannot be read, or a call past the last turn."""


@dataclass(frozen=True, slots=True)
class Turns:
    """A scripted model answering call N with turn N."""

    turns: tuple[Mapping[str, Any], ...]

    @classmethod
    def read(cls, raw: Any) -> Turns:
        """Check ``raw`` (a list of turns); every problem is named by its index."""
        if not isinstance(raw, Sequence) or isinstance(raw, str) or not raw:
            raise TurnError(
                "model.turns: expected a list of turns\n"
                "    fix: e.g. turns: [{text: Done.}]"
            )
        problems = [p for at, turn in enumerate(raw) for p in _problems(at, turn)]
        if problems:
            raise TurnError("\n".join(problems))
        return cls(tuple(raw))

    def __call__(self, call: ModelCall) -> dict[str, Any]:
        if call.index >= len(self.turns):
            raise TurnError(
                f"model: the scripted model has {len(self.turns)} turn"
                f"{'s' if len(self.turns) > 1 else ''}; the agent made model call "
                f"{call.index + 1}\n"
                "    fix: add the turn the agent should get, or find why it asks again"
            )
        turn = self.turns[call.index]
        if "body" in turn:
            return dict(turn["body"])
        if "tool_call" in turn:
            one = turn["tool_call"]
            return call.tool_calls([(one["name"], one.get("arguments", {}))])
        if "tool_calls" in turn:
            calls = [(c["name"], c.get("arguments", {})) for c in turn["tool_calls"]]
            return call.tool_calls(calls, content=str(turn.get("text", "")))
        return call.text(str(turn["text"]))


def _problems(at: int, turn: Any) -> list[str]:
    where = f"model.turns[{at}]"
    fix = f"    fix: a turn is one of {', '.join(KINDS)}, e.g. {{text: Done.}}"
    if not isinstance(turn, Mapping):
        return [f"{where}: expected a mapping\n{fix}"]
    kinds = [k for k in KINDS if k in turn]
    unknown = sorted(set(turn) - set(KINDS))
    if unknown:
        keys = f"key{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}"
        return [f"{where}: unknown {keys}\n{fix}"]
    if not kinds:
        return [f"{where}: empty turn\n{fix}"]
    if len(kinds) > 1 and kinds != ["text", "tool_calls"]:
        return [f"{where}: one of {', '.join(kinds)}, not both\n{fix}"]
    if "text" in turn and not isinstance(turn["text"], str):
        return [f"{where}.text: expected a string"]
    if "body" in turn and not isinstance(turn["body"], Mapping):
        return [f"{where}.body: expected a mapping (a whole response body)"]
    calls = [turn["tool_call"]] if "tool_call" in turn else turn.get("tool_calls", [])
    if "tool_calls" in turn and (not isinstance(calls, Sequence) or not calls):
        return [f"{where}.tool_calls: expected a non-empty list"]
    out = []
    for n, one in enumerate(calls):
        at_call = (
            f"{where}.tool_call" if "tool_call" in turn else f"{where}.tool_calls[{n}]"
        )
        if not isinstance(one, Mapping) or not isinstance(one.get("name"), str):
            out.append(f"{at_call}: expected {{name: TOOL, arguments: {{…}}}}")
        elif not isinstance(one.get("arguments", {}), Mapping):
            out.append(f"{at_call}.arguments: expected a mapping")
    return out
