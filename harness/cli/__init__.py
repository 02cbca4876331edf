"""The ``aqe`` command: ``aqe run`` (a scenario suite through pytest), ``aqe
validate`` (check files), ``aqe new scenario``, ``aqe fuzz`` (search for a
breaking fault plan), ``aqe bench``, ``aqe tools`` (the tool reference), ``aqe
mcp`` (a run's tools over MCP, stdio or HTTP), and the report commands ``aqe
compare``, ``replay``, ``report`` and ``rescore``."""

from __future__ import annotations

import argparse
import difflib
import functools
import json
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

#: The usage error's exit status (:class:`harness.reporting.gate.ExitCode`).
USAGE_ERROR = 4


def _run(args: argparse.Namespace, extra: list[str]) -> int:
    # A fresh interpreter: pytest must import the plugin itself (an already
    # imported plugin cannot be assertion-rewritten, and a session is cleaner).
    # harness._pytest.early: imported before the installed plugins (see it)
    argv = ["-p", "harness._pytest.early", *args.paths, "--aqe-agent", args.agent]
    argv += ["-p", "no:cacheprovider"]
    if args.seed is not None:
        argv += ["--aqe-seed", str(args.seed)]
    if args.report_dir is not None:
        argv += ["--aqe-report-dir", args.report_dir]
    command = [sys.executable, "-m", "pytest", *argv, *extra]
    return subprocess.run(command, check=False).returncode


class _Declared:
    """A parser that keeps what :func:`harness._pytest.options.add_options`
    declares, so ``aqe run`` knows the ``--aqe-*`` options without pytest."""

    def __init__(self) -> None:
        self.options: list[tuple[tuple[str, ...], dict[str, Any]]] = []

    def getgroup(self, name: str, description: str = "") -> _Declared:
        return self

    def addoption(self, *names: str, **kwargs: Any) -> None:
        self.options.append((names, kwargs))

    def addini(self, *args: Any, **kwargs: Any) -> None:
        pass


@functools.cache
def _aqe_options() -> tuple[tuple[tuple[str, ...], dict[str, Any]], ...]:
    """The plugin's ``--aqe-*`` options: their names and declarations."""
    from harness._pytest.options import add_options

    declared = _Declared()
    add_options(declared)  # type: ignore[arg-type]
    return tuple(declared.options)


def _unknown_aqe_option(extra: list[str]) -> str | None:
    """What is wrong with the first ``--aqe-*`` option pytest would not know,
    with the fix; None if they are all the plugin's."""
    known = [name for names, _ in _aqe_options() for name in names]
    for word in extra:
        if word == "--":
            break
        name = word.partition("=")[0]
        if not name.startswith("--aqe-") or name in known:
            continue
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        listed = "aqe run --help lists the --aqe-* options"
        fix = f"did you mean {close[0]}? ({listed})" if close else listed
        return f"unknown option {name}\n    fix: {fix}"
    return None


def _run_epilog() -> str:
    """``aqe run --help``'s list of the options that go on to pytest."""
    lines = [
        "Every other option goes on to pytest: its own (-n 2, -k EXPR, -x, -q;",
        "see pytest --help) and the aqe plugin's:",
        "",
    ]
    for names, kwargs in _aqe_options():
        metavar = kwargs.get("metavar")
        if metavar is None and "choices" in kwargs:
            metavar = "{" + ",".join(kwargs["choices"]) + "}"
        if metavar is None and kwargs.get("action") not in ("store_true",):
            metavar = kwargs.get("dest", "").upper()
        head = "  " + ", ".join(names) + (f" {metavar}" if metavar else "")
        text = str(kwargs.get("help", "")).replace("%%", "%")
        lines.append(head)
        lines.extend(textwrap.wrap(text, 76, initial_indent=" " * 6,
                                   subsequent_indent=" " * 6))  # fmt: skip
    lines += [
        "",
        "exit status: 0 every run passed, 1 runs failed, 4 usage error (before",
        "anything runs), 5 nothing ran, 6 a regression against the baseline, 7 a",
        "harness or infrastructure error (README.md, Exit codes).",
        "",
        "example:",
        "  aqe run scenarios/payments --agent"
        " harness.agents.reference:careful_refund_agent -n 2",
    ]
    return "\n".join(lines)


def _at_least_one(text: str) -> int:
    """An argparse type: a whole number of at least 1 (seeds, rounds, writes)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a whole number of at least 1 (fix: give e.g. 5)"
        )
    return value


def _bench(args: argparse.Namespace, extra: list[str]) -> int:
    from harness.bench import (
        bench_canary,
        bench_gateway,
        bench_models,
        bench_world,
        render,
    )

    if extra:
        sys.stderr.write(f"aqe bench: unexpected arguments: {' '.join(extra)}\n")
        return 2
    if args.target == "world":
        results = bench_world(runs=min(args.rounds, 500))
    elif args.target == "canary":
        results = bench_canary(cases=args.cases)
    elif args.target == "oracles":
        from harness.bench_oracles import bench_oracles

        results = bench_oracles(writes=args.writes, rounds=min(args.rounds, 50))
    elif args.target == "service":
        from harness.bench_service import bench_service

        results = bench_service(rounds=args.rounds)
    elif args.target == "startup":
        from harness.bench_startup import bench_startup
        from harness.errors import HarnessError

        try:
            results = bench_startup(rounds=args.repeat or 5, scenario=args.scenario)
        except HarnessError as err:
            sys.stderr.write(f"{err}\n")
            return 2
    elif args.target == "suite":
        import harness.bench_suite as bench_suite
        from harness.errors import HarnessError

        try:
            results = bench_suite.bench_suite(
                paths=args.paths, seeds=args.seeds, rounds=args.repeat or 1
            )
        except HarnessError as err:
            sys.stderr.write(f"{err}\n")
            return 2
        text = json.dumps(results, sort_keys=True)
        sys.stdout.write((text if args.json else bench_suite.render(results)) + "\n")
        return 0
    elif args.target == "models":
        from harness.errors import HarnessError

        try:
            results = bench_models(rounds=min(args.rounds, 500))
        except HarnessError as err:
            sys.stderr.write(f"{err}\n")
            return 2
    else:
        results = bench_gateway(rounds=args.rounds)
    text = json.dumps(results, sort_keys=True) if args.json else render(results)
    sys.stdout.write(text + "\n")
    return 0


def _tools(args: argparse.Namespace, extra: list[str]) -> int:
    from fakes import registered_services
    from harness.errors import HarnessError
    from harness.gateway.reference import render, select_services

    try:
        services = select_services(args.service, registered_services())
    except HarnessError as err:
        sys.stderr.write(f"aqe tools: {err}\n")
        return 2
    sys.stdout.write(render(services, args.format))
    return 0


def _mcp(args: argparse.Namespace, extra: list[str]) -> int:
    try:
        from harness.cli.mcp import command
    except ImportError as exc:
        if exc.name is None or exc.name.partition(".")[0] not in ("mcp", "mcp_types"):
            raise
        sys.stderr.write(
            f"aqe mcp: the MCP SDK does not import here ({exc})\n"
            "    fix: pip install 'aqe-harness[mcp]' (the mcp package, 2.3 or later)\n"
        )
        return 2
    return command(args, extra)


def _fuzz(args: argparse.Namespace, extra: list[str]) -> int:
    from harness.errors import HarnessError
    from harness.isolation import ProcessIsolation
    from harness.modes.fuzz import fuzz

    isolation = ProcessIsolation()  # the agent under test runs in its own process
    try:
        outcome = fuzz(
            Path(args.scenario),
            args.agent,  # imported only in its own process
            out=Path(args.out),
            examples=args.examples,
            session_seed=args.seed,
            oracles=args.oracle or None,
            agent_spec=args.agent,
            isolation=isolation,
        )
    except HarnessError as err:
        sys.stderr.write(f"aqe fuzz: {err}\n")
        return 2
    finally:
        isolation.close()
    write = sys.stdout.write
    if outcome.baseline_failed:
        write(
            f"aqe fuzz: {args.agent} already fails {args.scenario} without faults"
            f" ({', '.join(outcome.baseline_failed)}); fix that first"
            f" (aqe run {args.scenario} --agent {args.agent})\n"
        )
        return 1
    found = outcome.finding
    if found is None:
        write(
            f"aqe fuzz: no failing fault plan in {outcome.examples} runs of"
            f" {args.agent} on {args.scenario}\n"
        )
        return 0
    write(
        f"aqe fuzz: {args.agent} fails {', '.join(found.oracles)} under"
        f" {len(found.faults)} fault(s), found in {outcome.examples} runs\n"
        f"  wrote {found.path}\n"
    )
    for fault in found.faults:
        detail = {k: v for k, v in fault.items() if k != "id"}
        write(f"  fault {fault['id']}: {json.dumps(detail, sort_keys=True)}\n")
    write(f"  {found.explanation}\n")
    write(
        f"  reproduce: pytest {found.path} --aqe-agent {args.agent}"
        f" --aqe-seed {found.session_seed}\n"
    )
    return 1


def _validate(args: argparse.Namespace, extra: list[str]) -> int:
    from harness.errors import ScenarioError
    from harness.policy.loader import load_pack
    from harness.scenario.loader import load_scenario

    files: list[Path] = []
    for name in args.paths:
        path = Path(name)
        if path.is_dir():
            files.extend(
                sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml"))
            )
        elif path.exists():
            files.append(path)
        else:
            sys.stderr.write(f"aqe validate: no such file or directory: {name}\n")
            return 2
    bad = 0
    for path in files:
        try:
            if "policies" in path.parts:
                load_pack(path)
            else:
                load_scenario(path)
        except ScenarioError as err:
            bad += 1
            sys.stdout.write(f"{err}\n")
        else:
            sys.stdout.write(f"ok {path}\n")
    sys.stdout.write(f"{len(files)} file(s) checked, {bad} invalid\n")
    return 1 if bad or not files else 0


def _new(args: argparse.Namespace, extra: list[str]) -> int:
    from harness.errors import HarnessError
    from harness.scenario.template import new_scenario

    try:
        path = new_scenario(args.name, Path(args.dir))
    except HarnessError as err:
        sys.stderr.write(f"aqe new: {err}\n")
        return 2
    sys.stdout.write(f"wrote {path}\n")
    return 0


_FUZZ_HELP = """\
Search fault plans that make an agent fail a scenario, shrink the first one found
to the simplest plan that still fails, and write it as a new scenario file in
--out that reproduces the failure under pytest.

The agent must pass the scenario without faults; faults then hit the tools it
called. The search is deterministic for a scenario, agent and seed.

exit status: 1 a failing plan was found (or the agent fails without faults),
0 none was found, 2 the input was wrong.

example:
  aqe fuzz scenarios/payments/refund_ok.yaml \\
      --agent harness.agents.reference:naive_refund_agent --out fuzzed/
"""

_TOOLS_HELP = """\
Print every simulated operation: as the tool definitions an agent gets from
env.tools.specs(format=...), or as Markdown reference docs for scenario authors
(per service its hosts; per operation its route, summary, whether it writes,
takes an Idempotency-Key or If-Match, can be undone, its policy action, its
parameters and its response fields).

examples:
  aqe tools > TOOLS.md                        reference docs of every service
  aqe tools --service payments ops            the docs of two services
  aqe tools --format openai                   one JSON array of OpenAI tools
  aqe tools --format mcp --service tickets    MCP tool definitions
"""


#: The name traces give an ``aqe mcp`` client when ``--agent-name`` does not.
MCP_AGENT = "mcp:stdio-client"
#: The same, for an ``aqe mcp --http`` client.
MCP_HTTP_AGENT = "mcp:http-client"

_MCP_HELP = """\
Serve one run's simulated tools over MCP on stdin/stdout until the client
disconnects (with --http: over streamable HTTP at http://127.0.0.1:PORT/mcp,
the URL on stderr, until Ctrl-C): the world pytest builds for the scenario and
session seed, with its faults, policy and history; the client is the agent.
Only MCP traffic goes to stdout; the verdict goes to stderr once the client has
gone.

The task goes to --task-file before serving (and is the server's instructions);
the client may write its result ({"status": "done", "summary": ...}) to
--result-file before it disconnects. Simulated time moves only with tool calls.

exit status: 0 the run passed, 1 it failed an oracle, 2 the input was wrong.

example (the server command of an MCP client):
  aqe mcp --scenario scenarios/payments/refund_ambiguous_timeout.yaml \\
      --task-file task.json --result-file result.json --trace trace.jsonl

example (an MCP server at a URL; Ctrl-C ends the run):
  aqe mcp --http --port 8765 --scenario scenarios/payments/refund_ok.yaml
"""


def _add_mcp_command(sub: Any) -> None:
    mcp = sub.add_parser(
        "mcp",
        help="serve a run's tools over MCP, stdio or HTTP (the client is the agent)",
        description=_MCP_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    mcp.add_argument("--scenario", required=True, metavar="FILE")
    mcp.add_argument(
        "--seed",
        type=int,
        default=0,
        help="the session seed, as --aqe-seed (default 0)",
    )
    mcp.add_argument(
        "--http",
        action="store_true",
        help="serve over streamable HTTP on 127.0.0.1 instead of stdio",
    )
    mcp.add_argument(
        "--port",
        type=int,
        metavar="N",
        help="with --http: the port (default: a free one)",
    )
    mcp.add_argument(
        "--agent-name",
        metavar="NAME",
        help=f"the agent's name in the trace (default {MCP_AGENT},"
        f" with --http {MCP_HTTP_AGENT})",
    )
    mcp.add_argument(
        "--task-file",
        metavar="PATH",
        help="write the task (JSON: input, instructions, scenario, seed) here first",
    )
    mcp.add_argument(
        "--result-file",
        metavar="PATH",
        help="the client's result (JSON: status, summary), read once it disconnects",
    )
    mcp.add_argument(
        "--trace", metavar="PATH", help="write the run's trace (JSONL) here"
    )
    mcp.set_defaults(func=_mcp)


def _reporting(args: argparse.Namespace, extra: list[str]) -> int:
    from harness.cli import reports as commands
    from harness.errors import HarnessError
    from harness.reporting.gate import ExitCode

    try:
        if args.command == "compare":
            return commands.compare_command(
                Path(args.base),
                Path(args.cand),
                rules=args.compare_fail,
                fail_on_regression=args.fail_on_regression,
                fmt=args.format,
                out=sys.stdout,
            )
        if args.command == "replay":
            scenario = Path(args.scenario) if args.scenario else None
            return commands.replay_command(
                Path(args.trace), scenario=scenario, out=sys.stdout
            )
        if args.command == "report":
            return commands.report_command(Path(args.run_dir), out=sys.stdout)
        return commands.rescore_command(Path(args.run_dir), out=sys.stdout)
    except HarnessError as err:
        # a bad argument or a corrupt, foreign or newer saved file: one message
        sys.stderr.write(f"aqe {args.command}: {err}\n")
        return int(ExitCode.USAGE_ERROR)


def _add_report_commands(sub: Any) -> None:
    compare = sub.add_parser(
        "compare",
        help="compare two runs (or baselines); exit 6 on a regression if asked",
        description="BASE and CAND are each a run folder (reports/runs/<id>,"
        " reports/latest), a summary.json or a baseline file.",
    )
    compare.add_argument("base")
    compare.add_argument("cand")
    compare.add_argument(
        "--fail-on-regression",
        action="store_true",
        help="exit 6 when a scenario regressed beyond a rule",
    )
    compare.add_argument(
        "--compare-fail",
        action="append",
        default=[],
        metavar="[SCENARIO/]METRIC:DELTA",
        help="a gate rule, as pytest's --aqe-compare-fail (default pass_rate:0)",
    )
    compare.add_argument(
        "--format", choices=["text", "md", "html", "json"], default="text"
    )
    compare.set_defaults(func=_reporting)
    replay = sub.add_parser(
        "replay", help="run a trace's agent again and check it reproduces the trace"
    )
    replay.add_argument("trace", help="a trace .jsonl from a run folder's traces/")
    replay.add_argument(
        "--scenario", help="the scenario file, if not where the trace says"
    )
    replay.set_defaults(func=_reporting)
    report = sub.add_parser(
        "report", help="regenerate a run folder's summary, Markdown and HTML"
    )
    report.add_argument("run_dir", help="reports/runs/<id> or reports/latest")
    report.set_defaults(func=_reporting)
    rescore = sub.add_parser(
        "rescore",
        help="re-score a run folder's traces without running agents",
        description="Re-issues each trace's recorded calls on a fresh world of the"
        " same scenario and seed, then scores it with today's oracles and"
        " expectations; writes RUN_DIR/rescored/.",
    )
    rescore.add_argument("run_dir", help="reports/runs/<id> or reports/latest")
    rescore.set_defaults(func=_reporting)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aqe", description="Agentic quality engineering harness."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser(
        "run",
        help="run scenarios against an agent (extra arguments go to pytest)",
        description="Run scenario files against an agent through pytest and the\n"
        "aqe plugin, in a fresh pytest process: the verdicts, the reports in the\n"
        "report dir, and the gate's exit status.",
        epilog=_run_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument(
        "paths", nargs="+", metavar="PATH", help="scenario files or directories"
    )
    run.add_argument(
        "--agent",
        required=True,
        metavar="SPEC",
        help="the agent under test (pytest's --aqe-agent): module:callable,"
        " cmd:COMMAND (a command, any language) or http://HOST:PORT/PATH (a"
        " service)",
    )
    run.add_argument(
        "--seed",
        type=int,
        default=None,
        metavar="N",
        help="session seed (--aqe-seed; default 0)",
    )
    run.add_argument(
        "--report-dir",
        default=None,
        metavar="DIR",
        help="where traces and the summary go (--aqe-report-dir; default reports/)",
    )
    run.set_defaults(func=_run)
    bench = sub.add_parser("bench", help="measure the harness's own speed")
    bench.add_argument(
        "target",
        choices=[
            "gateway",
            "world",
            "canary",
            "models",
            "oracles",
            "service",
            "suite",
            "startup",
        ],
        help="gateway: the cost of each door; world: building and resetting worlds;"
        " canary: a stream of generated cases through the kill switch and judge;"
        " models: model round trips through the official SDKs (at most 500 rounds);"
        " oracles: each oracle on one long synthetic run (at most 50 rounds);"
        " service: a tool call over the loopback server from another process;"
        " suite: the scenario library x K new seeds through the API and pytest;"
        " startup: aqe --help, validate, tools and a one-scenario aqe run, each a"
        " fresh process, against python and import pytest",
    )
    bench.add_argument(
        "--cases", type=int, default=10_000, help="canary: cases in the stream"
    )
    bench.add_argument(
        "--writes",
        type=_at_least_one,
        default=3000,
        help="oracles: side effects in the run",
    )
    bench.add_argument("--json", action="store_true", help="print one JSON object")
    bench.add_argument("--rounds", type=int, default=2000, help="calls per measurement")
    bench.add_argument(
        "--seeds", type=_at_least_one, default=5, help="suite: new seeds per scenario"
    )
    bench.add_argument(
        "--paths",
        nargs="+",
        default=["scenarios"],
        metavar="PATH",
        help="suite: the scenario files or directories",
    )
    bench.add_argument(
        "--repeat",
        type=_at_least_one,
        default=None,
        help="suite, startup: interleaved rounds (median; default 1, startup 5)",
    )
    bench.add_argument(
        "--scenario",
        default="scenarios/payments/refund_ambiguous_timeout.yaml",
        metavar="FILE",
        help="startup: the scenario aqe validate and aqe run are timed on",
    )
    bench.set_defaults(func=_bench)
    validate = sub.add_parser(
        "validate",
        help="check scenario and policy-pack files without running them",
        description="Check scenario files (and policy packs under a policies/"
        " directory) as pytest would, printing every problem with file:line and"
        " the fix. Exit status 1 if any file is invalid, 2 if a path is missing.",
    )
    validate.add_argument("paths", nargs="+", help="files or directories")
    validate.set_defaults(func=_validate)
    new = sub.add_parser("new", help="write a commented starting file")
    new_sub = new.add_subparsers(dest="what", required=True)
    new_scenario = new_sub.add_parser("scenario", help="a scenario file that loads")
    new_scenario.add_argument("name", help="the scenario's name (file NAME.yaml)")
    new_scenario.add_argument(
        "--dir", default="scenarios", help="where to write it (default scenarios/)"
    )
    new_scenario.set_defaults(func=_new)
    fuzz = sub.add_parser(
        "fuzz",
        help="search for the fault plan that breaks an agent; write it as a scenario",
        description=_FUZZ_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    fuzz.add_argument("scenario", help="the scenario file to start from")
    fuzz.add_argument("--agent", required=True, metavar="MODULE:CALLABLE")
    fuzz.add_argument(
        "--examples", type=int, default=200, help="fault plans to try (default 200)"
    )
    fuzz.add_argument(
        "--out", default="fuzzed", metavar="DIR", help="where to write the scenario"
    )
    fuzz.add_argument("--seed", type=int, default=0, help="the session seed")
    fuzz.add_argument(
        "--oracle",
        action="append",
        default=[],
        metavar="NAME",
        help="count only failures of this oracle (repeatable; default: any)",
    )
    fuzz.set_defaults(func=_fuzz)
    tools = sub.add_parser(
        "tools",
        help="print the simulated tools as reference docs or tool definitions",
        description=_TOOLS_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    tools.add_argument(
        "--format",
        choices=["markdown", "openai", "responses", "anthropic", "mcp"],
        default="markdown",
        help="markdown (default): reference docs; openai (Chat Completions),"
        " responses (OpenAI Responses), anthropic, mcp: one JSON array of tool"
        " definitions, sorted by name",
    )
    tools.add_argument(
        "--service",
        action="extend",
        nargs="+",
        default=[],
        metavar="NAME",
        help="only these services (repeatable; default: every registered service)",
    )
    tools.set_defaults(func=_tools)
    _add_mcp_command(sub)
    _add_report_commands(sub)
    return parser


@functools.cache
def _parser() -> argparse.ArgumentParser:
    """The process's parser: built once (it holds no state between parses, and
    building it is most of what a short command such as ``aqe validate`` costs)."""
    return build_parser()


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "run" and args.command != "bench":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.command == "run":
        problem = _unknown_aqe_option(extra)
        if problem is not None:  # said here, before pytest starts
            sys.stderr.write(f"aqe run: {problem}\n")
            return USAGE_ERROR
    code: int = args.func(args, extra)
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
