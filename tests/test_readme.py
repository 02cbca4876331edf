"""Every example in README.md runs, so none can rot.

Each fenced block that is a command (``bash``, ``sh``, ``console``) or a Python
snippet is run here, as written, by default: a new block needs no entry to be
run. ``EXAMPLES`` below lists the blocks run some other way, each with why:

* ``Elsewhere``: a test (or CI's ``.ci/run``) that runs the block as written with
  checks of its own; the link is checked (the test exists and names the block's
  anchor text), so it cannot go stale silently.
* ``Run(exit=N)``: run here with that exit status; ``slow=`` puts it behind
  ``AQE_SLOW=1`` (CI's slow step runs this module with it).

How a block is run:

* A command runs in a temporary copy of the checkout (links to its files, a
  ``reports/`` of its own holding the committed ``baseline.json``), so
  ``.venv/bin/aqe run …`` compares with the baseline as the README says and the
  checkout gets no run folders. ``.venv/bin/aqe`` and ``.venv/bin/python`` are
  this interpreter's. A trailing ``# ORACLE`` comment names the oracle the command
  must fail; a ``console`` block's output lines must appear in the output, in order.
* A Python block is executed as a module in a temporary directory. Its
  ``test_*`` functions are run by pytest with each careful agent as
  ``--aqe-agent``, and must pass; a function ``(task, env)`` (an agent) is run on
  ``refund_ok`` and must not fail ``agent`` (it ran to its return).
* A ``yaml`` block (a scenario fragment) is neither: run only through an entry.

By default three sessions run (the naive payments run, ``aqe fuzz``, the Python
scenario with two agents): about 13 s of CPU; the ``slow=`` ones about 90 s more.
"""

from __future__ import annotations

import inspect
import json
import os
import re
import runpy
import shlex
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness import run_scenario
from harness.run import run_seed
from tests.conftest import ROOT, payments_scenario

SLOW = os.environ.get("AQE_SLOW") == "1"
README = ROOT / "README.md"
FENCE = re.compile(r"^(?P<indent> *)```(?P<lang>\w*)\n(?P<body>.*?)^(?P=indent)```$", re.M | re.S)  # fmt: skip
COMMANDS = ("bash", "sh", "console")
#: Languages that are neither a command nor Python (a scenario fragment): run only
#: through an ``EXAMPLES`` entry.
NOT_CODE = ("yaml",)
#: The ``--aqe-agent`` a Python block's tests run with (the shipped careful agents
#: that take any payments task; the others need a model or node).
CAREFUL = ("harness.agents.library:careful_agent", "harness.agents.reference:careful_refund_agent")  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class Block:
    lang: str
    line: int  # of the opening fence
    text: str

    @property
    def id(self) -> str:
        head = re.sub(r"\W+", "-", self.text.strip().splitlines()[0])[:40].strip("-")
        return f"L{self.line}-{self.lang}-{head}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Elsewhere:
    """Run as written by ``where`` (``path::test`` or a file), which names ``anchor``."""

    where: str
    anchor: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Run:
    exit: int = 0
    slow: str | None = None


#: How each block is run, keyed by text only it holds; a block not named here is
#: run by default (commands with exit status 0).
EXAMPLES: dict[str, Elsewhere | Run] = {
    # installs a venv and runs the whole library (62 scenarios): CI's main job and
    # test_plugin run its aqe command; .ci/run makes the venv the same way
    "pip install -q -e '.[test]' && .venv/bin/aqe run scenarios": Elsewhere(
        where="tests/test_plugin.py::test_the_readme_main_command_runs_the_library",
        anchor="aqe run scenarios --agent harness.agents.library:careful_agent",
    ),
    # the test suite itself (this test among it): .ci/run runs it as written
    "pip install -q -e '.[test]' && .venv/bin/python -m pytest -n 2": Elsewhere(
        where=".ci/run", anchor="python -m pytest -n 2"
    ),
    # the LLM agent's scripted turns: run with that agent, as the scenario's model
    "turns:                      # the run's N-th model call": Elsewhere(
        where="tests/models/test_readme_llm.py::test_the_readme_llm_agent_passes_with_the_readme_turns",
        anchor="turns:",
    ),
    # "the session exits 6": its three failures regress against the baseline
    "aqe run scenarios/payments --agent harness.agents.reference:naive_refund_agent\n": Run(
        exit=6
    ),
    "report_trusting_agent": Run(exit=6, slow="four sessions of 5-20 s"),
    "llm_refunds:naive_model": Run(exit=6, slow="four sessions of 5-20 s"),
    # agents: run on their scenario (with the README's model turns where they call
    # a model) with checks of the ledger
    "import requests\nimport stripe": Elsewhere(
        where="tests/gateway/test_readme_agent.py::test_the_readme_sdk_agent_passes_refund_ok",
        anchor="import requests",
    ),
    "import json\nimport openai": Elsewhere(
        where="tests/models/test_readme_llm.py::test_the_readme_llm_agent_passes_with_the_readme_turns",
        anchor="import json",
    ),
    "async def mcp_refund_agent": Elsewhere(
        where="tests/gateway/test_mcp.py::test_the_readme_mcp_agent_passes_the_ambiguous_timeout",
        anchor="mcp_refund_agent",
    ),
    # aqe mcp serves a client: the tests drive it with one and check this stderr line
    "$ aqe mcp --scenario": Elsewhere(
        where="tests/gateway/test_mcp.py::test_a_careful_stdio_client_passes_and_leaves_the_in_process_history",
        anchor="4 tool call(s), 30.15 simulated seconds",
    ),
    "$ aqe mcp --http": Elsewhere(
        where="tests/gateway/test_mcp_http.py::test_aqe_mcp_http_serves_until_sigint_then_scores_the_run",
        anchor="/mcp (Ctrl-C ends the run)",
    ),
    "from mcp import Client": Elsewhere(
        where="tests/gateway/test_mcp_http.py::test_the_readme_http_client_reads_the_run_s_refunds",
        anchor="async def list_refunds",
    ),
    "from langgraph.graph import": Elsewhere(
        where="tests/adapters/test_readme_langgraph.py::test_the_readme_langgraph_agent_passes",
        anchor="from langchain_openai import ChatOpenAI",
    ),
    "from pydantic_ai import Agent": Elsewhere(
        where="tests/adapters/test_readme_pydantic_ai.py::test_the_readme_pydantic_ai_agent_passes",
        anchor="from pydantic_ai import Agent",
    ),
    "from agents import Agent, Runner": Elsewhere(
        where="tests/adapters/test_readme_openai_agents.py::test_the_readme_agents_sdk_agent_passes",
        anchor="from agents import Agent, Runner",
    ),
    # an agent script, not a command: run as cmd:sh on the ambiguous timeout
    "#!/bin/sh": Elsewhere(
        where="tests/outside/test_readme_command.py::test_the_readme_shell_agent_passes_the_ambiguous_timeout",
        anchor="#!/bin/sh",
    ),
    "cmd:node harness/agents/node/refunds.mjs careful": Run(
        slow="a session of node runs"
    ),
    # aqe fuzz: exit 1 is "a failing plan was found"
    "aqe fuzz scenarios/payments/refund_ok.yaml": Run(exit=1),
    "--aqe-mode shadow": Run(slow="shadow runs each scenario three times (10-20 s)"),
    "--aqe-mode canary": Run(slow="a stream of 2,000 canary cases (minutes)"),
}


def readme_blocks() -> list[Block]:
    text = README.read_text(encoding="utf-8")
    return [
        Block(
            lang=m["lang"],
            line=text.count("\n", 0, m.start()) + 1,
            text=textwrap.dedent(m["body"]),
        )
        for m in FENCE.finditer(text)
    ]


BLOCKS = readme_blocks()


def how(block: Block) -> Elsewhere | Run:
    """The block's ``EXAMPLES`` entry (the key test checks there is one at most)."""
    return next((way for key, way in EXAMPLES.items() if key in block.text), Run())


def test_each_examples_key_names_one_block() -> None:
    for key in EXAMPLES:
        found = [b.line for b in BLOCKS if key in b.text]
        assert len(found) == 1, (
            f"EXAMPLES key {key!r} is in README.md blocks at lines {found}, not one:"
            " name the block by text only it holds, or drop the entry"
        )
    for block in BLOCKS:
        keys = [key for key in EXAMPLES if key in block.text]
        assert len(keys) <= 1, f"README.md:{block.line}: EXAMPLES keys {keys} all match"


def test_every_block_is_a_command_python_or_known_data() -> None:
    langs = {b.lang for b in BLOCKS}
    assert langs <= {*COMMANDS, "python", *NOT_CODE}, (
        f"README.md has blocks in {sorted(langs - {*COMMANDS, 'python', *NOT_CODE})}:"
        " say how this test runs them"
    )


# -- blocks run elsewhere ---------------------------------------------------------


@pytest.mark.parametrize(
    "block",
    [b for b in BLOCKS if isinstance(how(b), Elsewhere)],
    ids=lambda b: b.id,
)
def test_a_block_run_elsewhere_is_run_there(block: Block) -> None:
    way = how(block)
    assert isinstance(way, Elsewhere)
    assert way.anchor in block.text, f"README.md:{block.line}: no {way.anchor!r}"
    path, _, name = way.where.partition("::")
    source = (ROOT / path).read_text(encoding="utf-8")
    assert not name or re.search(rf"^(async )?def {name}\(", source, re.M), (
        f"{path} has no test {name} (README.md:{block.line} names it)"
    )
    assert way.anchor in source.replace("\\", ""), (
        f"{path} no longer names {way.anchor!r}: does it still run README.md:{block.line}?"
    )


def test_a_console_block_run_elsewhere_shows_the_seed_the_run_gets() -> None:
    """``aqe mcp: NAME (seed N, session seed S)``: the seed a run of NAME gets."""
    shown = [
        (b.line, m)
        for b in BLOCKS
        if b.lang == "console" and isinstance(how(b), Elsewhere)
        for m in re.finditer(
            r"aqe mcp: (\w+) \(seed (\d+), session seed (\d+)\)", b.text
        )
    ]
    assert shown, "README.md shows no aqe mcp verdict line any more: drop this test"
    for line, m in shown:
        seed = run_seed(int(m[3]), m[1])
        assert int(m[2]) == seed, (
            f"README.md:{line}: {m[0]}, but the run's seed is {seed}"
        )


# -- Python blocks ----------------------------------------------------------------


@pytest.mark.parametrize(
    "block",
    [b for b in BLOCKS if b.lang == "python" and isinstance(how(b), Run)],
    ids=lambda b: b.id,
)
def test_a_python_block_runs(
    block: Block, tmp_path: Path, pytester: pytest.Pytester
) -> None:
    path = tmp_path / f"readme_line_{block.line}.py"
    path.write_text(block.text, encoding="utf-8")
    namespace = runpy.run_path(str(path))
    tests = [name for name in namespace if name.startswith("test_")]
    agents = [
        value
        for name, value in namespace.items()
        if inspect.isfunction(value)
        and not name.startswith("test_")
        and list(inspect.signature(value).parameters)[:2] == ["task", "env"]
    ]
    if tests:
        pytester.makepyfile(**{f"test_readme_line_{block.line}": block.text})
        for agent in CAREFUL:
            result = pytester.runpytest(
                f"--aqe-agent={agent}", "-p", "no:cacheprovider"
            )
            assert result.ret == 0, (
                f"README.md:{block.line} fails with --aqe-agent {agent}:\n"
                + result.stdout.str()[-4000:]
            )
            result.assert_outcomes(passed=len(tests))
    for agent in agents:
        run = run_scenario(payments_scenario("refund_ok"), agent, seed=1)
        assert "agent" not in run.failed_oracles, run.scores


# -- commands ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Command:
    block: Block
    line: str  # continuation lines joined
    output: tuple[str, ...]  # console: the lines shown after it

    @property
    def id(self) -> str:
        tail = re.sub(r"\W+", "-", self.line)[-48:].strip("-")
        return f"{self.block.id}-{tail}"


def commands(block: Block) -> Iterator[Command]:
    lines = block.text.replace("\\\n", " ").splitlines()
    if block.lang != "console":
        for line in lines:
            if line.strip() and not line.lstrip().startswith("#"):
                yield Command(block=block, line=line.strip(), output=())
        return
    starts = [i for i, line in enumerate(lines) if line.startswith("$ ")]
    for i, j in zip(starts, [*starts[1:], len(lines)], strict=True):
        output = tuple(line for line in lines[i + 1 : j] if line.strip())
        yield Command(block=block, line=lines[i][2:].strip(), output=output)


COMMAND_CASES = [
    c for b in BLOCKS if b.lang in COMMANDS and isinstance(how(b), Run) for c in commands(b)
]  # fmt: skip


def checkout_copy(tmp_path: Path) -> Path:
    """The checkout as links, with a ``reports/`` of its own and the baseline."""
    work = tmp_path / "checkout"
    (work / "reports").mkdir(parents=True)
    for entry in ROOT.iterdir():
        if entry.name not in {"reports", ".git", ".venv"} and not entry.name.startswith(
            (".mypy", ".ruff", ".pytest", ".hypothesis")
        ):
            (work / entry.name).symlink_to(entry)
    shutil.copy(ROOT / "reports" / "baseline.json", work / "reports" / "baseline.json")
    return work


def argv(line: str) -> list[str]:
    words = shlex.split(line, comments=True)
    chained = {"&&", "||", "|", ";"} & set(words)
    assert not chained, f"{line!r}: a chain of commands; say in EXAMPLES how it is run"
    program = words[0].removeprefix(".venv/bin/")
    if program == "aqe":
        return [sys.executable, "-m", "harness.cli", *words[1:]]
    if program in {"python", "python3"}:
        return [sys.executable, *words[1:]]
    return words


@pytest.mark.parametrize("command", COMMAND_CASES, ids=lambda c: c.id)
def test_a_command_runs_with_its_exit_status(command: Command, tmp_path: Path) -> None:
    way = how(command.block)
    assert isinstance(way, Run)
    if way.slow and not SLOW:
        pytest.skip(f"{way.slow}: AQE_SLOW=1")
    words = argv(command.line)
    if shutil.which(words[0]) is None:
        pytest.skip(f"{words[0]} is not installed here")
    work = checkout_copy(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        words, cwd=work, env=env, capture_output=True, text=True, check=False
    )
    said = done.stdout + done.stderr
    where = f"README.md:{command.block.line}: {command.line}"
    assert done.returncode == way.exit, (
        f"{where}\nexit {done.returncode}, not {way.exit} (another status, or too"
        " slow to run by default? say so in EXAMPLES, tests/test_readme.py)\n"
        + said[-4000:]
    )
    rest = said
    for expected in command.output:
        assert expected.strip() in rest, f"{where}\nno line {expected!r} in\n{said}"
        rest = rest[rest.index(expected.strip()) + len(expected.strip()) :]
    oracle = re.search(r"#\s*(\w+)[^#]*$", command.line)
    if oracle:
        summary = json.loads((work / "reports/latest/summary.json").read_text())
        assert any(r["scores"].get(oracle[1]) is False for r in summary["results"]), (
            f"{where}\nno run failed {oracle[1]}:\n{said[-4000:]}"
        )
