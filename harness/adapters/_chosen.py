"""Which of ``env.tools`` an adapter wraps: those named, in ``env.tools``' order."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from harness.errors import HarnessError
from harness.runtime.env import AgentEnv


def chosen_specs(
    env: AgentEnv, names: Iterable[str] | None, *, who: str
) -> list[dict[str, Any]]:
    """The Chat Completions ``function`` specs of the tools ``names`` (all when
    None); an unknown name is the caller's mistake (``who`` names the caller)."""
    specs = [s["function"] for s in env.tools.specs(format="openai")]
    if names is None:
        return specs
    wanted = list(names)
    known = {s["name"] for s in specs}
    unknown = [n for n in wanted if n not in known]
    if unknown:
        raise HarnessError(
            f"{who}: no tool {unknown[0]!r} in env.tools\n    fix: use some of"
            f" {', '.join(sorted(known))}"
        )
    return [s for s in specs if s["name"] in wanted]
