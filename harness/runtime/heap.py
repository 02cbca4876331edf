"""The long-lived heap of a process that runs agents in-process, settled once it
has grown by an import.

Python's cyclic collector walks every container object it tracks in each full
collection. An agent on an SDK imports thousands of modules, classes and
functions on its first run (openai, anthropic, langgraph, pydantic_ai and the
OpenAI Agents SDK together: ~6,400 modules, ~525,000 tracked objects), and
those live as long as the process. From then on every full collection walks
them again: in the library over the API (350 runs on new seeds) one full
collection took ~0.5 s, 11% of the round, and the young collections another 4%.

:func:`settle_after_imports` is asked at the start of each in-process run. When
:data:`IMPORTS_TO_SETTLE` modules or more came into ``sys.modules`` since the
last settle, it collects once and freezes what survives (:func:`gc.freeze`),
so later collections walk only what runs create; in the steady state (nothing
new imported) it costs one ``len``. A frozen object is still freed by its
reference count when it is dropped; only a cycle among objects frozen alive is
left to the end of the process, and what the caller still holds at a settle
(an earlier run's result) is one run's world, a few times per process. A
process that turned the collector off keeps it as it is.
"""

from __future__ import annotations

import gc
import sys

#: New modules since the last settle that are worth one full collection: an
#: SDK's import is hundreds; a test module or a user's agent module is not.
IMPORTS_TO_SETTLE = 50

_settled_at: list[int] = [0]


def settle_after_imports() -> bool:
    """Collect and freeze the heap if ``sys.modules`` grew by
    :data:`IMPORTS_TO_SETTLE` since the last settle; whether it did."""
    count = len(sys.modules)
    if count < _settled_at[0]:  # modules were dropped: count from what is left
        _settled_at[0] = count
    if count - _settled_at[0] < IMPORTS_TO_SETTLE or not gc.isenabled():
        return False
    _settled_at[0] = count
    gc.collect()
    gc.freeze()
    return True
