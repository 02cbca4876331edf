"""The ``--aqe-*`` options and ``aqe_*`` ini keys, declared in one place.

:func:`add_options` declares them on pytest's parser; ``aqe run`` reads the same
declarations (with a recording parser) for its help and its "did you mean", so
this module imports nothing of pytest's when it runs: ``aqe`` answers a
mistyped option before pytest is imported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pytest

# Option dests (``config.getoption`` names) and ini keys.
AGENT = "aqe_agent"
SEED = "aqe_seed"
SEEDS = "aqe_seeds"
REPORT_DIR = "aqe_report_dir"
TIMEOUT = "aqe_timeout"
BASELINE = "aqe_baseline"
SAVE_BASELINE = "aqe_save_baseline"
COMPARE_FAIL = "aqe_compare_fail"
STORE = "aqe_store"
MODE = "aqe_mode"
REFERENCE_AGENT = "aqe_reference_agent"
SHADOW_MIN_AGREEMENT = "aqe_shadow_min_agreement"
CONTROL_AGENT = "aqe_control_agent"
CASES = "aqe_cases"
CANARY_FRACTION = "aqe_canary_fraction"
CANARY_STEPS = "aqe_canary_steps"
SCENARIOS = "aqe_scenarios"
ISOLATION = "aqe_isolation"
MEMORY = "aqe_memory"
ALLOW_HOSTS = "aqe_allow_hosts"
MODEL = "aqe_model"
MODEL_MODE = "aqe_model_mode"
MODEL_UPSTREAMS = "aqe_model_upstreams"
#: ``--aqe-model-mode``'s choices (:data:`harness.models.source.MODES`).
MODEL_MODES = ("scripted", "replay", "record", "live")


def add_options(parser: pytest.Parser) -> None:
    """The ``--aqe-*`` options (one group) and the ``aqe_*`` ini keys."""
    group = parser.getgroup("aqe", "aqe-harness: agent scenarios")
    group.addoption(
        "--aqe-agent",
        dest=AGENT,
        metavar="MODULE:CALLABLE",
        help="the agent under test: module:callable (e.g."
        " harness.agents.reference:careful_refund_agent), cmd:COMMAND (a command,"
        " any language) or http://HOST:PORT/PATH (a service)",
    )
    group.addoption(
        "--aqe-seed",
        dest=SEED,
        type=int,
        metavar="N",
        help="session seed; each scenario's run seed derives from it (default 0)",
    )
    group.addoption(
        "--aqe-seeds",
        dest=SEEDS,
        type=int,
        metavar="K",
        help="run each scenario K times with derived seeds; the summary reports "
        "pass rate, pass@k and pass^k per scenario (default 1)",
    )
    group.addoption(
        "--aqe-report-dir",
        dest=REPORT_DIR,
        metavar="DIR",
        help="where traces and the summary go (default: reports/)",
    )
    group.addoption(
        "--aqe-timeout",
        dest=TIMEOUT,
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="wall-clock limit per run; a hung agent is a recorded failure "
        "(default 60)",
    )
    group.addoption(
        "--aqe-isolation",
        dest=ISOLATION,
        choices=["process", "none"],
        default=None,
        help="process: each run's agent in a fresh process of its own, in kernel"
        " namespaces with no network where the machine allows (default); none:"
        " in pytest's own process, faster, for trusted agents only (not a"
        " security boundary)",
    )
    group.addoption(
        "--aqe-memory",
        dest=MEMORY,
        default=None,
        metavar="SIZE",
        help="address-space limit of each agent process, e.g. 512M or 4G; 0 for"
        " none (default 2G; --aqe-isolation process only)",
    )
    group.addoption(
        "--aqe-allow-host",
        dest=ALLOW_HOSTS,
        action="append",
        default=[],
        metavar="HOST[:PORT]",
        help="let runs reach HOST (any port, or PORT only; [IPv6]:PORT) outside"
        " the simulation, e.g. a local model server at localhost:11434;"
        " repeatable, adds to the ini aqe_allow_hosts (default: nothing outside"
        " the simulation, loopback included)",
    )
    group.addoption(
        "--aqe-model",
        dest=MODEL,
        metavar="MODULE:CALLABLE",
        help="the scripted model answering the agent's model calls (OpenAI at"
        " api.openai.com, Anthropic at api.anthropic.com): def script(call) ->"
        " dict; wins over a scenario's own model:",
    )
    group.addoption(
        "--aqe-model-mode",
        dest=MODEL_MODE,
        choices=list(MODEL_MODES),
        default=None,
        help="where model answers come from: scripted (the script), replay (the"
        " run's cassette; a request with no recorded answer fails the run, never"
        " goes out), record (the real provider with your key, saved to the"
        " cassette), live (the real provider, nothing saved); default: scripted"
        " when there is a script, else replay when the run's cassette exists",
    )
    group.addoption(
        "--aqe-model-upstream",
        dest=MODEL_UPSTREAMS,
        action="append",
        default=[],
        metavar="PROVIDER=URL",
        help="record/live: send PROVIDER's (openai, anthropic) requests to URL"
        " instead of its API, e.g. a compatible gateway; repeatable",
    )
    group.addoption(
        "--aqe-baseline",
        dest=BASELINE,
        metavar="PATH",
        help="the baseline to compare with (default: <report dir>/baseline.json)",
    )
    group.addoption(
        "--aqe-save-baseline",
        dest=SAVE_BASELINE,
        action="store_true",
        help="write this session's results as the baseline",
    )
    group.addoption(
        "--aqe-compare-fail",
        dest=COMPARE_FAIL,
        action="append",
        default=[],
        metavar="[SCENARIO/]METRIC:DELTA",
        help="fail (exit 6) when METRIC gets worse than the baseline by more than"
        " DELTA (0.1 or 10%%), e.g. pass_rate:0 or refund_ok/idempotency:0;"
        " repeatable (default: pass_rate:0 when a baseline exists)",
    )
    group.addoption(
        "--aqe-store",
        dest=STORE,
        metavar="URL",
        help="results history: a SQLite path or postgresql://… "
        "(default: <report dir>/history.sqlite)",
    )
    group.addoption(
        "--aqe-mode",
        dest=MODE,
        choices=["sim", "shadow", "canary"],
        help="sim: act in the simulated world (default, or the scenario's own"
        " mode); shadow: act on a fork, compare with a reference, change nothing;"
        " canary: a stream of generated cases split with a control agent",
    )
    group.addoption(
        "--aqe-reference-agent",
        dest=REFERENCE_AGENT,
        metavar="MODULE:CALLABLE",
        help="shadow: the reference agent (run twice, to measure noise); default:"
        " the scenario's recorded reference decision",
    )
    group.addoption(
        "--aqe-shadow-min-agreement",
        dest=SHADOW_MIN_AGREEMENT,
        type=float,
        metavar="RATE",
        help="shadow: fail the session when the agreement rate is below RATE"
        " (default: report only)",
    )
    group.addoption(
        "--aqe-control-agent",
        dest=CONTROL_AGENT,
        metavar="MODULE:CALLABLE",
        help="canary: the control agent (the one in production today)",
    )
    group.addoption(
        "--aqe-cases",
        dest=CASES,
        type=int,
        default=1000,
        metavar="N",
        help="canary: cases generated across the scenario templates (default 1000)",
    )
    group.addoption(
        "--aqe-canary-fraction",
        dest=CANARY_FRACTION,
        type=float,
        default=0.1,
        metavar="F",
        help="canary: the share of cases routed to the candidate (default 0.1)",
    )
    group.addoption(
        "--aqe-canary-steps",
        dest=CANARY_STEPS,
        metavar="P1,P2,...",
        help="canary: ramp in stages of these percentages, each judged before the"
        " next, e.g. 1,5,25 (default: one stage at the fraction)",
    )
    parser.addini(AGENT, "the agent under test (module:callable)", default="")
    parser.addini(SEED, "session seed (default 0)", default="0")
    parser.addini(SEEDS, "runs per scenario (default 1)", default="1")
    parser.addini(REPORT_DIR, "directory for traces and summaries", default="reports")
    parser.addini(ISOLATION, "process (default) or none", default="process")
    parser.addini(MEMORY, "agent process memory limit (default 2G)", default="2G")
    parser.addini(
        ALLOW_HOSTS,
        "hosts outside the simulation runs may reach, one HOST[:PORT] a line",
        type="linelist",
        default=[],
    )
    parser.addini(MODEL, "the scripted model (module:callable)", default="")
    parser.addini(
        MODEL_MODE, "scripted, replay, record or live (default: by what exists)",
        default="",
    )  # fmt: skip
    parser.addini(
        MODEL_UPSTREAMS,
        "record/live: PROVIDER=URL, one a line (the real provider's base URL)",
        type="linelist",
        default=[],
    )
    parser.addini(
        SCENARIOS,
        "scenario files or directories (relative to the rootdir); naming any"
        " turns aqe on for the session",
        type="paths",
        default=[],
    )
