"""fakes/ is the lowest layer: its base loads no service, and it never imports harness."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

from fakes.registry import BUILT_IN, registered_services

FAKES = Path(__file__).resolve().parents[2] / "fakes"


def _fakes_modules_after(code: str) -> list[str]:
    """The ``fakes`` modules a fresh interpreter holds after running ``code``."""
    script = (
        f"{code}\nimport json, sys\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('fakes'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        cwd=FAKES.parent,
    )
    modules: list[str] = json.loads(out.stdout)
    return modules


def test_importing_fakes_base_imports_no_service() -> None:
    modules = _fakes_modules_after("import fakes.base")
    services = [m for m in modules if m.startswith(tuple(BUILT_IN))]
    assert services == []
    assert "fakes.registry" not in modules


def test_importing_one_service_registers_every_built_in_in_build_order() -> None:
    code = (
        "import fakes.calendar\n"
        "from fakes import registered_services\n"
        "print(*(s.__module__ for s in registered_services()))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=FAKES.parent,
    )
    packages = [module.rsplit(".", 1)[0] for module in out.stdout.split()]
    assert packages == list(BUILT_IN)


def test_the_registry_builds_the_built_ins_in_their_stated_order() -> None:
    built_in = [s for s in registered_services() if s.__module__.startswith("fakes.")]
    assert [s.__module__.rsplit(".", 1)[0] for s in built_in] == list(BUILT_IN)


def _imported_modules(tree: ast.AST) -> list[str]:
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.append(node.module)
    return names


def test_no_module_under_fakes_imports_harness() -> None:
    upward = {
        f"{path.relative_to(FAKES.parent)}: {name}"
        for path in sorted(FAKES.rglob("*.py"))
        for name in _imported_modules(ast.parse(path.read_text(), str(path)))
        if name == "harness" or name.startswith("harness.")
    }
    assert upward == set()
