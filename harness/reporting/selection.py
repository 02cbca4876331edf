"""What a session selected: the scenarios it collected after paths, ``-k`` and ``-m``.

A comparison needs it to tell a baseline scenario the session chose not to run
("not selected": counted, never listed as missing, never gating) from one it
selected and did not run ("missing"). The session writes it to its run folder as
``selection.json`` once collection is done (so a session killed later keeps it)
and into ``summary.json``; ``aqe compare`` reads it back offline. Its
``fingerprint`` names the suite, so trends compare sessions of the same suite.

A scenario file's items name their scenario (``refund_ok`` or
``refund_ok[seed=2]``; a file that does not load is named by its stem). A Python
test that calls ``aqe_run`` selects the scenario it runs only by running it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.files import write_atomic

SELECTION = "selection.json"
SELECTION_VERSION = 1
_SCENARIO_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True, slots=True, kw_only=True)
class Selection:
    """The scenario names a session collected, and how it was asked to select."""

    scenarios: tuple[str, ...]
    #: Collected items (a scenario with K seeds is K items).
    items: int
    args: tuple[str, ...] = ()
    keyword: str | None = None
    markexpr: str | None = None

    @property
    def fingerprint(self) -> str:
        """The suite's name: a short hash of the selected scenario names."""
        text = "\n".join(sorted(self.scenarios))
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    def to_json(self) -> dict[str, Any]:
        return {
            "selection_version": SELECTION_VERSION,
            "fingerprint": self.fingerprint,
            "scenarios": list(self.scenarios),
            "items": self.items,
            "args": list(self.args),
            "keyword": self.keyword,
            "markexpr": self.markexpr,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Selection:
        """A checked ``selection.json`` (or a summary's ``selection``)."""
        return cls(
            scenarios=tuple(sorted(str(s) for s in data["scenarios"])),
            items=int(data.get("items") or 0),
            args=tuple(str(a) for a in data.get("args") or ()),
            keyword=data.get("keyword") or None,
            markexpr=data.get("markexpr") or None,
        )


def scenario_of(nodeid: str) -> str | None:
    """The scenario a scenario file's item runs, None for any other item."""
    path, sep, name = nodeid.partition("::")
    if not sep or not path.endswith(_SCENARIO_SUFFIXES):
        return None
    return name.partition("[")[0] or Path(path).stem


def select(
    nodeids: Iterable[str],
    *,
    args: Iterable[str] = (),
    keyword: str | None = None,
    markexpr: str | None = None,
) -> Selection:
    """The selection of a session that collected ``nodeids``."""
    ids = list(nodeids)
    names = {name for nodeid in ids if (name := scenario_of(nodeid)) is not None}
    return Selection(
        scenarios=tuple(sorted(names)),
        items=len(ids),
        args=tuple(args),
        keyword=keyword or None,
        markexpr=markexpr or None,
    )


def write_selection(run_dir: Path, selection: Selection) -> Path:
    """Write ``selection.json`` into ``run_dir`` (atomically); its path."""
    import json

    path = run_dir / SELECTION
    text = json.dumps(selection.to_json(), indent=2, sort_keys=True) + "\n"
    write_atomic(path, text.encode())
    return path
