"""The session's aqe settings: pytest's options and ini values, read once.

:mod:`harness._pytest.options` declares them; :func:`aqe_config` builds one frozen
:class:`AqeConfig` per session (kept in ``config.stash``), which everything else
reads instead of calling ``getoption`` by name. A session *asks for aqe* when it
names an agent (``--aqe-agent``, ``aqe_agent``), declares scenario paths
(``aqe_scenarios``), or names scenario files on the command line (YAML files, or
directories named ``scenarios`` or inside one); any other
session, for example in a project that merely has aqe-harness installed, collects
no scenario, reads no baseline, starts no subprocess and prints nothing of ours.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from harness._pytest.options import (  # the option dests and ini keys
    AGENT,
    ALLOW_HOSTS,
    BASELINE,
    CANARY_FRACTION,
    CANARY_STEPS,
    CASES,
    COMPARE_FAIL,
    CONTROL_AGENT,
    ISOLATION,
    MEMORY,
    MODE,
    MODEL,
    MODEL_MODE,
    MODEL_MODES,
    MODEL_UPSTREAMS,
    REFERENCE_AGENT,
    REPORT_DIR,
    SAVE_BASELINE,
    SCENARIOS,
    SEED,
    SEEDS,
    SHADOW_MIN_AGREEMENT,
    STORE,
    TIMEOUT,
)
from harness.errors import HarnessError

#: What a scenario file's name ends with.
SUFFIXES = (".yaml", ".yml")
#: The worker's copy of the controller's run folder (``workerinput`` key).
WORKER_RUN_DIR = "aqe_run_dir"
#: The controller's ``--dist`` (``workerinput`` key): a worker's own is ``no``.
WORKER_DIST = "aqe_dist"


@dataclass(frozen=True, slots=True, kw_only=True)
class AqeConfig:
    """Everything the plugin reads from pytest's configuration, read once."""

    #: Whether the session asked for aqe (see the module docstring).
    active: bool
    #: ``module:callable`` from ``--aqe-agent`` or ``aqe_agent``, if any.
    agent: str | None
    #: Whether the agent came from the command line (a session that names one
    #: there and runs nothing is an error, not a pass).
    agent_on_command_line: bool
    seed: int
    #: ``--aqe-seeds``; None leaves it to the scenario, then to ``ini_seeds``.
    seeds: int | None
    ini_seeds: int
    report_dir: Path
    timeout: float
    #: ``process`` (each run's agent in its own process) or ``none``.
    isolation: str
    #: The agent process's address-space limit in bytes; None: no limit.
    memory: int | None
    #: ``aqe_allow_hosts`` and ``--aqe-allow-host``, checked: what runs may reach
    #: outside the simulation (``host``, ``host:port``, ``[IPv6]:port``).
    allow_hosts: tuple[str, ...] = ()
    #: ``--aqe-model`` or ini ``aqe_model``: the scripted model, if any.
    model: str | None = None
    #: ``--aqe-model-mode`` or ini ``aqe_model_mode``; None: by what exists.
    model_mode: str | None = None
    #: Per provider, the real provider's base URL (record and live).
    model_upstreams: tuple[tuple[str, str], ...] = ()
    baseline: Path | None
    save_baseline: bool
    compare_fail: tuple[str, ...]
    store: str | None
    mode: str | None
    reference_agent: str | None
    shadow_min_agreement: float | None
    control_agent: str | None
    cases: int
    canary_fraction: float
    canary_steps: str | None
    #: ``aqe_scenarios``, resolved: where scenario files live (empty: any
    #: directory named ``scenarios``).
    scenario_roots: tuple[Path, ...]
    #: Scenario files, and directories named ``scenarios`` or inside one, named
    #: on the command line.
    named_paths: tuple[Path, ...]

    def agent_spec(self) -> str:
        """The agent under test; a usage error that says how to name one."""
        if not self.agent:
            raise HarnessError(
                "no agent under test\n"
                "    fix: pass --aqe-agent module:callable, or set aqe_agent in the "
                "pytest ini file"
            )
        return self.agent

    def seed_count(self, scenario_seeds: int = 1) -> int:
        """Runs per scenario: ``--aqe-seeds``, else the scenario's ``seeds``,
        else the ``aqe_seeds`` ini value (default 1)."""
        value = self.seeds
        if value is None and scenario_seeds > 1:
            value = scenario_seeds
        return max(1, int(value or self.ini_seeds or 1))

    def is_scenario_path(self, path: Path, explicitly_named: bool) -> bool:
        """Whether pytest should collect ``path`` as a scenario file."""
        if not self.active or path.suffix not in SUFFIXES:
            return False
        if explicitly_named:
            return True
        if self.scenario_roots:
            inside = any(
                root == path or root in path.parents for root in self.scenario_roots
            )
            return inside and not _under_policies(path, self.scenario_roots)
        parents = [p.name for p in path.parents]
        return "scenarios" in parents and "policies" not in parents


def _under_policies(path: Path, roots: tuple[Path, ...]) -> bool:
    """A policy pack below a declared root (``…/policies/pack.yaml``)."""
    for root in roots:
        if root in path.parents:
            inner = path.relative_to(root).parts[:-1]
            return "policies" in inner
    return False


_CONFIG = pytest.StashKey["AqeConfig"]()


def aqe_config(config: pytest.Config) -> AqeConfig:
    """The session's :class:`AqeConfig`, built on first use."""
    built = config.stash.get(_CONFIG, None)
    if built is None:
        built = config.stash[_CONFIG] = _read(config)
    return built


def _read(config: pytest.Config) -> AqeConfig:
    option = config.getoption
    cli_agent = option(AGENT)
    agent = cli_agent or config.getini(AGENT) or None
    roots = tuple(Path(p).resolve() for p in config.getini(SCENARIOS))
    for root in roots:
        if not root.exists():
            base = config.inipath.parent if config.inipath else config.rootpath
            raise HarnessError(
                f"ini {SCENARIOS}: no such file or directory: {root}\n"
                f"    fix: name scenario files or directories relative to {base}"
            )
    named = tuple(_named_scenario_paths(config))
    baseline = option(BASELINE)
    return AqeConfig(
        active=bool(agent or roots or named),
        agent=str(agent) if agent else None,
        agent_on_command_line=bool(cli_agent),
        seed=option(SEED) if option(SEED) is not None else _ini_int(config, SEED),
        seeds=option(SEEDS),
        ini_seeds=_ini_int(config, SEEDS),
        report_dir=_report_dir(config),
        timeout=float(option(TIMEOUT)),
        isolation=_isolation(config),
        memory=_memory(config),
        allow_hosts=_allow_hosts(config),
        model=option(MODEL) or str(config.getini(MODEL)).strip() or None,
        model_mode=_model_mode(config),
        model_upstreams=_model_upstreams(config),
        baseline=Path(baseline) if baseline else None,
        save_baseline=bool(option(SAVE_BASELINE)),
        compare_fail=tuple(option(COMPARE_FAIL) or ()),
        store=option(STORE),
        mode=option(MODE, None),
        reference_agent=option(REFERENCE_AGENT),
        shadow_min_agreement=option(SHADOW_MIN_AGREEMENT),
        control_agent=option(CONTROL_AGENT),
        cases=int(option(CASES)),
        canary_fraction=float(option(CANARY_FRACTION)),
        canary_steps=option(CANARY_STEPS),
        scenario_roots=roots,
        named_paths=named,
    )


def _named_scenario_paths(config: pytest.Config) -> list[Path]:
    """What the command line names that can only mean scenarios: YAML files, and
    directories named ``scenarios`` or inside one (``pytest scenarios/payments``)."""
    if config.args_source is not pytest.Config.ArgsSource.ARGS:
        return []  # testpaths or the rootdir: the session named nothing
    found = []
    for arg in config.args:
        path = Path(arg.split("::", 1)[0])
        if not path.is_absolute():
            path = config.invocation_params.dir / path
        names = (path.name, *(p.name for p in path.parents))
        if path.suffix in SUFFIXES or (path.is_dir() and "scenarios" in names):
            found.append(path)
    return found


def _isolation(config: pytest.Config) -> str:
    value = config.getoption(ISOLATION) or str(config.getini(ISOLATION)).strip()
    if value not in ("process", "none"):
        raise HarnessError(
            f"ini {ISOLATION} = {value!r}: not an isolation mode\n"
            f"    fix: {ISOLATION} = process (the default) or none"
        )
    return value


def _memory(config: pytest.Config) -> int | None:
    cli = config.getoption(MEMORY)
    text = str(cli if cli is not None else config.getini(MEMORY)).strip()
    where = "--aqe-memory" if cli is not None else f"ini {MEMORY}"
    try:
        return parse_size(text)
    except ValueError as exc:
        raise HarnessError(
            f"{where} {text!r}: {exc}\n    fix: a size such as 512M, 2G or 1.5G;"
            " 0 for no limit"
        ) from None


def _allow_hosts(config: pytest.Config) -> tuple[str, ...]:
    given = [
        *((f"ini {ALLOW_HOSTS}", str(t)) for t in config.getini(ALLOW_HOSTS)),
        *(("--aqe-allow-host", str(t)) for t in config.getoption(ALLOW_HOSTS) or ()),
    ]
    if not given:
        return ()
    # only when asked for: the plugin imports nothing heavy in other projects
    from fakes.registry import registered_services
    from harness.gateway.allow import FORMS, AllowedHost

    simulated = {h for s in registered_services() for h in s.hosts}
    entries: list[str] = []
    for where, text in given:
        try:
            entry = AllowedHost.parse(text)
        except ValueError as exc:
            raise HarnessError(f"{where} {text!r}: {exc}\n    fix: {FORMS}") from None
        if entry.host in simulated:
            raise HarnessError(
                f"{where} {text!r}: {entry.host} is a simulated host, always"
                " reachable during a run (inside the simulation)\n"
                "    fix: allow only hosts outside the simulation, such as a local"
                " model server"
            )
        entries.append(entry.text())
    return tuple(dict.fromkeys(entries))


def _model_mode(config: pytest.Config) -> str | None:
    value = config.getoption(MODEL_MODE) or str(config.getini(MODEL_MODE)).strip()
    if value and value not in MODEL_MODES:
        raise HarnessError(
            f"ini {MODEL_MODE} = {value!r}: not a model mode\n"
            f"    fix: {MODEL_MODE} = one of {', '.join(MODEL_MODES)}"
        )
    return value or None


def _model_upstreams(config: pytest.Config) -> tuple[tuple[str, str], ...]:
    given = [
        *((f"ini {MODEL_UPSTREAMS}", str(t)) for t in config.getini(MODEL_UPSTREAMS)),
        *(("--aqe-model-upstream", str(t)) for t in config.getoption(MODEL_UPSTREAMS)),
    ]
    found: dict[str, str] = {}
    for where, text in given:
        provider, sep, url = text.partition("=")
        provider, url = provider.strip(), url.strip()
        if not sep or provider not in ("openai", "anthropic"):
            raise HarnessError(
                f"{where} {text!r}: expected PROVIDER=URL, PROVIDER openai or"
                " anthropic\n    fix: e.g. openai=http://127.0.0.1:8080"
            )
        if not url.startswith(("http://", "https://")):
            raise HarnessError(
                f"{where} {text!r}: {url!r} is not an http(s) URL\n"
                f"    fix: e.g. {provider}=http://127.0.0.1:8080"
            )
        found[provider] = url
    return tuple(found.items())


_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


def parse_size(text: str) -> int | None:
    """``512M``, ``2G``, ``1.5GiB``, ``1048576`` as bytes; ``0``/``none``: None."""
    value = text.strip().upper().removesuffix("IB").removesuffix("B")
    if value in ("0", "NONE", ""):
        if value == "" and text.strip():
            raise ValueError("not a size")
        return None
    unit = value[-1] if value[-1] in _UNITS else ""
    number = value[: -1 if unit else None].strip()
    try:
        amount = float(number)
    except ValueError:
        raise ValueError("not a size") from None
    if not amount > 0 or amount != amount or amount == float("inf"):
        raise ValueError("must be a positive size")
    size = int(amount * _UNITS[unit])
    if size < 64 * 1024**2:
        raise ValueError("under 64M, too small for a Python process")
    return size


def _ini_int(config: pytest.Config, name: str) -> int:
    text = str(config.getini(name) or "0").strip()
    try:
        return int(text)
    except ValueError:
        raise HarnessError(
            f"ini {name} = {text!r}: not a whole number\n"
            f"    fix: e.g. {name} = {'1' if name == SEEDS else '0'}"
        ) from None


def _report_dir(config: pytest.Config) -> Path:
    value = config.getoption(REPORT_DIR) or config.getini(REPORT_DIR)
    path = Path(value)
    return path if path.is_absolute() else config.rootpath / path
