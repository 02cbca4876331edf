"""aqe-harness: run AI agents against a simulated enterprise and score what they did.

The public API is below; everything else is internal. Names load on first use, so
importing the pytest plugin stays cheap (pytest imports every installed plugin).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from harness._lazy import lazy
from harness._version import __version__

if TYPE_CHECKING:
    from harness.errors import (
        AgentLoadError,
        ContractError,
        HarnessError,
        RunAborted,
        ScenarioError,
        ToolAmbiguousError,
        ToolConnectionError,
        ToolError,
        ToolMalformedResponse,
        ToolTimeout,
    )
    from harness.isolation import ProcessIsolation
    from harness.modes.canary import CanaryConfig, CanaryReport, run_canary
    from harness.modes.shadow import ShadowResult, run_shadow
    from harness.oracles.base import Evidence, Oracle, RunView, Score, oracle
    from harness.policy.loader import load_pack
    from harness.policy.model import PolicyPack
    from harness.run import RunRecord, RunResult, run_scenario
    from harness.runtime.env import AgentEnv, AgentResult, Identity, Task
    from harness.runtime.imports import agent_imports
    from harness.runtime.outside import CommandAgent, ServiceAgent
    from harness.scenario.loader import (
        load_scenario,
        parse_scenario,
        scenario_from_dict,
    )
    from harness.scenario.model import Scenario

_EXPORTS = {
    "AgentEnv": "harness.runtime.env",
    "AgentLoadError": "harness.errors",
    "AgentResult": "harness.runtime.env",
    "CanaryConfig": "harness.modes.canary",
    "CanaryReport": "harness.modes.canary",
    "CommandAgent": "harness.runtime.outside",
    "ContractError": "harness.errors",
    "Evidence": "harness.oracles.base",
    "HarnessError": "harness.errors",
    "Identity": "harness.runtime.env",
    "Oracle": "harness.oracles.base",
    "PolicyPack": "harness.policy.model",
    "ProcessIsolation": "harness.isolation",
    "RunAborted": "harness.errors",
    "RunRecord": "harness.run",
    "RunResult": "harness.run",
    "RunView": "harness.oracles.base",
    "Scenario": "harness.scenario.model",
    "ScenarioError": "harness.errors",
    "Score": "harness.oracles.base",
    "ServiceAgent": "harness.runtime.outside",
    "ShadowResult": "harness.modes.shadow",
    "Task": "harness.runtime.env",
    "ToolAmbiguousError": "harness.errors",
    "ToolConnectionError": "harness.errors",
    "ToolMalformedResponse": "harness.errors",
    "ToolError": "harness.errors",
    "ToolTimeout": "harness.errors",
    "agent_imports": "harness.runtime.imports",
    "load_pack": "harness.policy.loader",
    "load_scenario": "harness.scenario.loader",
    "oracle": "harness.oracles.base",
    "parse_scenario": "harness.scenario.loader",
    "run_canary": "harness.modes.canary",
    "run_scenario": "harness.run",
    "run_shadow": "harness.modes.shadow",
    "scenario_from_dict": "harness.scenario.loader",
}

__all__ = [
    "AgentEnv",
    "AgentLoadError",
    "AgentResult",
    "CanaryConfig",
    "CanaryReport",
    "CommandAgent",
    "ContractError",
    "Evidence",
    "HarnessError",
    "Identity",
    "Oracle",
    "PolicyPack",
    "ProcessIsolation",
    "RunAborted",
    "RunRecord",
    "RunResult",
    "RunView",
    "Scenario",
    "ScenarioError",
    "Score",
    "ServiceAgent",
    "ShadowResult",
    "Task",
    "ToolAmbiguousError",
    "ToolConnectionError",
    "ToolError",
    "ToolMalformedResponse",
    "ToolTimeout",
    "__version__",
    "agent_imports",
    "load_pack",
    "load_scenario",
    "oracle",
    "parse_scenario",
    "run_canary",
    "run_scenario",
    "run_shadow",
    "scenario_from_dict",
]


_load = lazy(__name__, _EXPORTS)


def __getattr__(name: str) -> Any:
    return _load(name)


def __dir__() -> list[str]:
    return sorted(__all__)
