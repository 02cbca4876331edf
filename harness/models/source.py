"""Where a run's model calls are answered from: its mode, script, cassette and
the real providers.

* ``scripted``: a script (:mod:`harness.models.call`) or a scenario's turns.
* ``replay``: a cassette (:mod:`harness.models.cassette`); a request with no
  recorded answer fails the run and never reaches a provider.
* ``record``: the real provider, with the user's own key from the environment;
  each exchange is added to a fresh cassette, saved when the run ends.
* ``live``: the real provider, nothing kept.

The real provider is asked by the harness, never by the agent: the agent still
talks only to the simulated host, and the harness sends its request on, from
its own side of the run (:func:`upstream_call`). The provider is asked for the
whole answer (``stream`` removed); a request that asked for a stream gets that
answer streamed, as a scripted one is, so a recorded run and its replay send the
agent the same bytes.
"""

from __future__ import annotations

import json
import os
import queue
import re
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from harness.errors import HarnessError
from harness.models.call import ModelCall
from harness.models.cassette import Cassette

#: A scripted model: the contract in :mod:`harness.models.call`.
Script = Callable[[ModelCall], Mapping[str, Any]]
Mode = Literal["scripted", "replay", "record", "live"]
MODES: tuple[Mode, ...] = ("scripted", "replay", "record", "live")

#: The real providers' base URLs (``--aqe-model-upstream`` changes them).
UPSTREAMS: Mapping[str, str] = {
    "openai": "https://api.openai.com",
    "anthropic": "https://api.anthropic.com",
}
#: The environment variables holding the user's own keys (record and live).
KEY_VARIABLES: Mapping[str, str] = {
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
}
#: Each endpoint's path at its provider.
PATHS: Mapping[str, str] = {
    "chat.completions": "/v1/chat/completions",
    "responses": "/v1/responses",
    "messages": "/v1/messages",
}
ANTHROPIC_VERSION = "2023-06-01"
#: Wall seconds the harness waits for a real provider's answer.
UPSTREAM_TIMEOUT = 600.0


class ModelSourceError(HarnessError):
    """A model source that cannot be used as given."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelSource:
    """What answers a run's model calls."""

    mode: Mode
    script: Script | None = None
    #: The run's cassette (replay reads it; record writes it).
    cassette: Path | None = None
    #: Per provider, the real provider's base URL (record and live).
    upstream: Mapping[str, str] = field(default_factory=lambda: dict(UPSTREAMS))

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ModelSourceError(
                f"model mode {self.mode!r}: expected one of {', '.join(MODES)}"
            )
        if self.mode == "scripted" and not callable(self.script):
            raise ModelSourceError(
                "model: scripted mode needs a scripted model, script(call) -> dict\n"
                "    fix: --aqe-model MODULE:CALLABLE, or the scenario's model:"
                " {script: MODULE:CALLABLE} or {turns: [...]}"
            )
        if self.mode in ("replay", "record") and self.cassette is None:
            raise ModelSourceError(
                f"model: {self.mode} mode needs a cassette file\n"
                "    fix: give ModelSource(cassette=PATH)"
            )
        for provider, url in self.upstream.items():
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ModelSourceError(
                    f"model upstream {provider}={url!r}: expected an http(s) URL\n"
                    "    fix: e.g. openai=http://127.0.0.1:8080"
                )

    def keys(self) -> dict[str, str]:
        """The user's own keys, read from the environment now (before a run sets
        its own credential there); record and live only."""
        if self.mode not in ("record", "live"):
            return {}
        return {
            provider: os.environ[name]
            for provider, name in KEY_VARIABLES.items()
            if os.environ.get(name)
        }

    def open_cassette(self) -> Cassette | None:
        """Replay: the recorded cassette; record: a fresh one; else None."""
        if self.cassette is None or self.mode not in ("replay", "record"):
            return None
        if self.mode == "record":
            return Cassette(self.cassette, [])
        return Cassette.load(self.cassette)


def scripted(script: Script) -> ModelSource:
    return ModelSource(mode="scripted", script=script)


def cassette_path(base: Path, scenario: str, agent: str, seed: int) -> Path:
    """``base/<scenario>/<agent>/<seed>.jsonl``: one run's cassette (the agent's
    ``module:callable`` with ``:`` as ``.``; other unsafe characters as ``_``)."""
    return base / _safe(scenario) / _safe(agent.replace(":", ".")) / f"{seed}.jsonl"


def _safe(part: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", part).strip(".") or "_"


@dataclass(frozen=True, slots=True)
class UpstreamAnswer:
    status: int
    body: dict[str, Any]
    #: The headers an SDK acts on (``retry-after``, the request id).
    headers: dict[str, str]


_KEPT_HEADERS = ("retry-after", "retry-after-ms", "x-should-retry")


def upstream_call(
    source: ModelSource,
    keys: Mapping[str, str],
    call: ModelCall,
) -> UpstreamAnswer:
    """Ask the real provider for ``call``'s whole answer (``stream`` removed).

    Raises :class:`ModelSourceError` when there is no key or no answer."""
    provider = call.provider
    key = keys.get(provider)
    if not key:
        raise ModelSourceError(
            f"model: {source.mode} mode asks the real {provider} API, and "
            f"{KEY_VARIABLES[provider]} is not set\n"
            f"    fix: export {KEY_VARIABLES[provider]}=<your key> (it is sent to"
            f" {provider} only, never stored), or replay a cassette"
        )
    base = source.upstream.get(provider, UPSTREAMS[provider])
    parts = urlsplit(base)
    path = parts.path.rstrip("/") + PATHS[call.endpoint]
    body = {k: v for k, v in call.body.items() if k not in ("stream", "stream_options")}
    headers = {"content-type": "application/json", "accept": "application/json"}
    if provider == "anthropic":
        headers["x-api-key"] = key
        headers["anthropic-version"] = ANTHROPIC_VERSION
    else:
        headers["authorization"] = f"Bearer {key}"
    # imported here: only record and live runs reach an upstream, and reading
    # scenarios (which names the providers) should not load TLS
    import http.client
    import ssl

    port = parts.port
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        connection = http.client.HTTPSConnection(
            str(parts.hostname),
            port,
            timeout=UPSTREAM_TIMEOUT,
            context=ssl.create_default_context(),
        )
    else:
        connection = http.client.HTTPConnection(
            str(parts.hostname), port, timeout=UPSTREAM_TIMEOUT
        )
    try:
        connection.request("POST", path, json.dumps(body).encode(), headers)
        response = connection.getresponse()
        data = response.read()
        status = response.status
        kept = {
            name: value
            for name, value in ((n.lower(), v) for n, v in response.getheaders())
            if name in _KEPT_HEADERS
        }
    except (OSError, http.client.HTTPException) as exc:
        raise ModelSourceError(
            f"model: could not reach {provider} at {base}: {exc}\n"
            "    fix: check the network and the upstream URL (--aqe-model-upstream),"
            " or replay a cassette"
        ) from None
    finally:
        connection.close()
    try:
        answer = json.loads(data)
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise ModelSourceError(
            f"model: {provider} at {base} answered {status} with a body that is not"
            f" a JSON object: {data[:200]!r}\n"
            "    fix: check the upstream URL (--aqe-model-upstream)"
        )
    return UpstreamAnswer(status=status, body=answer, headers=kept)


class Upstream:
    """Sends a run's requests to the real providers from a thread of the
    harness's own, started before the run opens: the run's network guards and
    simulated time are for the agent's threads, and this is not one of them
    (with the agent in the harness's process, the gateway runs in the agent's
    thread)."""

    def __init__(self, source: ModelSource) -> None:
        self.source = source
        self.keys = source.keys()
        self._jobs: queue.SimpleQueue[tuple[ModelCall, Future[UpstreamAnswer]] | None]
        self._jobs = queue.SimpleQueue()
        self._thread = threading.Thread(
            target=self._work, name="aqe-model-upstream", daemon=True
        )
        self._thread.start()

    def ask(self, call: ModelCall) -> UpstreamAnswer:
        done: Future[UpstreamAnswer] = Future()
        self._jobs.put((call, done))
        return done.result()

    def close(self) -> None:
        self._jobs.put(None)

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            call, done = job
            try:
                done.set_result(upstream_call(self.source, self.keys, call))
            except BaseException as exc:  # handed to the asking thread
                done.set_exception(exc)


def choose(
    *,
    mode: Mode | None,
    script: Script | None,
    cassettes: Path | None,
    scenario: str,
    agent: str,
    seed: int,
    upstream: Mapping[str, str] | None = None,
) -> ModelSource | None:
    """One run's model source: ``mode`` as the session chose it (None: a script
    when there is one, else the run's cassette when it exists, else none).

    ``cassettes``: the folder of the scenario's cassettes (the run's is
    ``<scenario>/<agent>/<seed>.jsonl`` in it); None where there is none (a
    scenario made in Python)."""
    upstreams = {**UPSTREAMS, **(upstream or {})}
    cassette = (
        None if cassettes is None else cassette_path(cassettes, scenario, agent, seed)
    )
    if mode is None:
        if script is not None:
            return ModelSource(mode="scripted", script=script)
        if cassette is not None and cassette.exists():
            return ModelSource(mode="replay", cassette=cassette)
        return None
    if mode in ("replay", "record") and cassette is None:
        raise ModelSourceError(
            f"model: {mode} mode needs the scenario's cassette folder, and scenario"
            f" {scenario!r} has no file to put it beside\n"
            "    fix: load the scenario from a file, or run it from Python with"
            " model=ModelSource(mode=..., cassette=PATH)"
        )
    kept = cassette if mode in ("replay", "record") else None
    return ModelSource(mode=mode, script=script, cassette=kept, upstream=upstreams)


def for_scenario(
    scenario: Any,
    *,
    agent: str,
    seed: int,
    script: str | None = None,
    mode: Mode | None = None,
    upstream: Mapping[str, str] | None = None,
) -> ModelSource | None:
    """What answers one run's model calls: ``script`` (``MODULE:CALLABLE``, from
    ``--aqe-model``), else the scenario's ``model:`` (a script or turns), else
    its cassette for this agent and seed, as ``mode`` says (see :func:`choose`)."""
    from harness.models.turns import Turns
    from harness.source.callables import load_callable

    own = scenario.model
    chosen: Script | None = None
    if script:
        chosen = load_callable(
            script,
            what="scripted model",
            example="--aqe-model harness.agents.llm_refunds:careful_model",
        )
    elif own is not None and own.script:
        try:
            chosen = load_callable(
                own.script,
                what="scripted model",
                example="model: {script: harness.agents.llm_refunds:careful_model}",
            )
        except HarnessError as exc:
            raise HarnessError(f"{own.at}: model.script: {exc}") from None
    elif own is not None and own.turns:
        chosen = Turns(own.turns)
    if mode == "scripted" and chosen is None:
        return None  # no script for this one: its model calls say so
    cassettes = None
    if scenario.path is not None:
        folder = own.cassettes if own is not None and own.cassettes else "cassettes"
        cassettes = Path(scenario.path).parent / folder
    return choose(
        mode=mode,
        script=chosen if mode in (None, "scripted") else None,
        cassettes=cassettes,
        scenario=scenario.name,
        agent=agent,
        seed=seed,
        upstream=upstream,
    )


def own_model(scenario: Any) -> ModelSource | None:
    """The scenario's own scripted model (its ``model:`` script or turns), for
    runs that make their own scenarios (fuzz, canary): no cassette, no live
    provider."""
    return for_scenario(scenario, agent="", seed=0, mode="scripted")
