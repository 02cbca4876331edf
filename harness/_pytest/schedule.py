"""``-n N`` (xdist's ``load`` or ``loadgroup``): the runs a model answers on one
worker.

A run with a model has an agent that imports a model SDK (openai, anthropic,
LangGraph, Pydantic AI, the OpenAI Agents SDK: seconds of CPU, paid by the run's
own process and again by the worker's fork server, which keeps them for the next
run). Spread over every worker, each pays them; kept on one, only that one does.
So the scenarios that name a ``model:`` go first, to the first worker, and no
other worker is handed one while that worker is up (``load``), or make one
group of their own (``loadgroup``, as if marked ``xdist_group``; an item with
its own group keeps it); every other item is scheduled as xdist does. When the
runs with a model are not a minority (``--aqe-model`` gives every run one)
there is nothing to gain, and the schedule is xdist's own.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest
from xdist.scheduler import (  # type: ignore[import-untyped]
    LoadGroupScheduling,
    LoadScheduling,
)

#: The group the runs with a model make under ``--dist loadgroup``.
MODEL_GROUP = "aqe-model"
#: The worker handed the runs with a model under ``--dist load`` while it is up
#: (so it can start their fork server as soon as it has collected: see
#: :mod:`harness._pytest.plan`); the first to ask for items when it is gone.
MODEL_WORKER = "gw0"


def make_scheduler(config: pytest.Config, log: Any) -> Any:
    """The scheduler for ``--dist load|loadgroup`` in an aqe session (None:
    xdist's)."""
    dist = config.getvalue("dist")
    if dist == "load":
        return ModelAffinityScheduling(config, log)
    if dist == "loadgroup":
        return ModelGroupScheduling(config, log)
    return None


def model_minority(root: Path, collection: list[str]) -> set[str]:
    """The node ids of runs with a model, if they are at most half of them."""
    modelled = {nodeid for nodeid in collection if _modelled(root, nodeid)}
    return modelled if 2 * len(modelled) <= len(collection) else set()


class ModelAffinityScheduling(LoadScheduling):  # type: ignore[misc]
    """xdist's ``load``, but the items a model answers all to one worker."""

    def __init__(self, config: pytest.Config, log: Any = None) -> None:
        super().__init__(config, log)
        self._modelled: set[int] = set()
        self._model_node: Any = None
        self._ordered = False

    def schedule(self) -> None:
        first = self.collection is None
        if first and self.collection_is_completed:
            collection = next(iter(self.node2collection.values()))
            modelled = model_minority(Path(str(self.config.rootpath)), collection)
            self._modelled = {i for i, n in enumerate(collection) if n in modelled}
        super().schedule()

    def _send_tests(self, node: Any, num: int) -> None:
        if not self._modelled:
            super()._send_tests(node, num)
            return
        if not self._ordered:  # before the first items go: the modelled ones first
            self._ordered = True
            self.pending.sort(key=lambda i: i not in self._modelled)
        if self._model_node not in self.node2pending:
            # MODEL_WORKER, else the first worker asked (or the next, if it went)
            self._model_node = next(
                (n for n in self.node2pending if _worker_id(n) == MODEL_WORKER), node
            )
        if node is self._model_node:
            take = self.pending[:num]
        else:
            take = [i for i in self.pending if i not in self._modelled][:num]
        if not take:
            return
        chosen = set(take)
        self.pending[:] = [i for i in self.pending if i not in chosen]
        self.node2pending[node].extend(take)
        node.send_runtest_some(take)


class ModelGroupScheduling(LoadGroupScheduling):  # type: ignore[misc]
    """xdist's ``loadgroup``, the items a model answers one group, handed to
    :data:`MODEL_WORKER` first."""

    def __init__(self, config: pytest.Config, log: Any = None) -> None:
        super().__init__(config, log)
        self._modelled: set[str] = set()

    def schedule(self) -> None:
        if self.collection is None and self.collection_is_completed:
            collection = list(next(iter(self.registered_collections.values())))
            self._modelled = model_minority(Path(str(self.config.rootpath)), collection)
            # the first node is handed the first unit: MODEL_WORKER, if it is up
            work: dict[Any, Any] = getattr(self, "assigned_work")  # noqa: B009 (untyped)
            first = [n for n in work if _worker_id(n) == MODEL_WORKER]
            self.assigned_work = {n: work[n] for n in [*first, *work] if n in work}
        super().schedule()

    def _assign_work_unit(self, node: Any) -> None:
        if self._modelled and MODEL_GROUP in self.workqueue:
            # the model group: MODEL_WORKER's first unit, nobody else's while it is up
            ours = _worker_id(node) == MODEL_WORKER or not any(
                _worker_id(n) == MODEL_WORKER for n in self.nodes
            )
            self.workqueue.move_to_end(MODEL_GROUP, last=not ours)
        super()._assign_work_unit(node)

    def _split_scope(self, nodeid: str) -> str:
        if "@" not in nodeid and nodeid in self._modelled:
            return MODEL_GROUP
        scope: str = super()._split_scope(nodeid)
        return scope


def _worker_id(node: Any) -> str | None:
    worker: str | None = getattr(getattr(node, "gateway", None), "id", None)
    return worker


def _modelled(root: Path, nodeid: str) -> bool:
    """Whether the scenario file an item comes from names a model."""
    path = nodeid.split("::", 1)[0]
    if not path.endswith((".yaml", ".yml")):
        return False
    return _names_a_model(str(root / path))


@cache
def _names_a_model(path: str) -> bool:
    from harness.errors import HarnessError
    from harness.scenario.loader import load_scenario

    try:
        return load_scenario(Path(path)).model is not None
    except (HarnessError, OSError, ValueError):
        return False
