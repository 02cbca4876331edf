"""The README's fault table, generated from the registry.

``python -m harness.faults.docs`` rewrites the table in ``README.md``; a test keeps
it current.
"""

from __future__ import annotations

import sys
from pathlib import Path

from harness.faults.registry import registry

README = Path(__file__).parents[2] / "README.md"
_HEADER = "| kind | parameters | what the agent sees |"


def fault_table() -> str:
    """One row per kind, in fault-table order."""
    lines = [_HEADER, "| --- | --- | --- |"]
    lines += [f"| `{k.name}` | {k.doc_params} | {k.doc_sees} |" for k in registry()]
    return "\n".join(lines) + "\n"


def with_table(text: str) -> str:
    """``text`` (the README) with its fault table replaced by the generated one."""
    start = text.index(_HEADER)
    end = text.find("\n\n", start)
    end = len(text) if end == -1 else end + 1
    return text[:start] + fault_table() + text[end:]


def main() -> int:
    text = README.read_text(encoding="utf-8")
    new = with_table(text)
    if new == text:
        sys.stdout.write(f"{README} is current\n")
        return 0
    README.write_text(new, encoding="utf-8")
    sys.stdout.write(f"rewrote the fault table in {README}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
