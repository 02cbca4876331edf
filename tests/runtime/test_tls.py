"""The clients a run builds share one default TLS context per process; a client
asking for its own context still gets its own, and nothing changes outside runs."""

from __future__ import annotations

import ssl
import sys
from pathlib import Path

import certifi
import httpx
import pytest

from harness import AgentEnv, AgentResult, Task, run_scenario
from harness.runtime import tls
from harness.runtime.tls import prebuild, shared_tls_contexts
from harness.scenario.model import Scenario


def _context(client: httpx.Client) -> ssl.SSLContext:
    pool = client._transport._pool  # type: ignore[attr-defined]
    context = pool._ssl_context
    assert isinstance(context, ssl.SSLContext)
    return context


def test_default_clients_built_in_runs_share_one_context(small: Scenario) -> None:
    contexts: list[ssl.SSLContext] = []

    def agent(task: Task, env: AgentEnv) -> AgentResult:
        for _ in range(2):
            with httpx.Client() as own:
                contexts.append(_context(own))
        return AgentResult(summary="built")

    run_scenario(small, agent, seed=1)
    run_scenario(small, agent, seed=2)
    assert len(contexts) == 4
    assert all(c is contexts[0] for c in contexts)
    assert contexts[0].verify_mode is ssl.CERT_REQUIRED
    assert contexts[0].check_hostname


def test_a_client_with_its_own_verification_gets_its_own_context() -> None:
    given = ssl.create_default_context()
    with shared_tls_contexts():
        with httpx.Client(verify=given) as own, httpx.Client(verify=False) as loose:
            assert _context(own) is given
            unchecked = _context(loose)
        with httpx.Client(verify=False) as again:
            assert _context(again) is not unchecked
    assert unchecked.verify_mode is ssl.CERT_NONE


def test_clients_built_outside_runs_build_their_own_context() -> None:
    with shared_tls_contexts(), httpx.Client() as inside:
        shared = _context(inside)
    with httpx.Client() as outside:
        assert _context(outside) is not shared


def test_the_shared_context_follows_the_ca_variables_a_client_trusts(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text(Path(certifi.where()).read_text(encoding="ascii"), "ascii")
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    with shared_tls_contexts():
        with httpx.Client() as trusting, httpx.Client(trust_env=False) as untrusting:
            default, untrusted = _context(trusting), _context(untrusting)
        monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
        with httpx.Client() as trusting, httpx.Client(trust_env=False) as untrusting:
            assert _context(trusting) is not default
            assert _context(untrusting) is untrusted


def test_a_prebuilt_context_is_the_one_the_clients_of_runs_share(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tls, "_SHARED", {})
    prebuild()
    built = dict(tls._SHARED)
    with shared_tls_contexts(), httpx.Client() as inside:
        shared = _context(inside)

    assert shared in built.values()
    assert built == tls._SHARED  # nothing built again
    assert shared.verify_mode is ssl.CERT_REQUIRED


def test_prebuilding_imports_no_transport(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tls, "_SHARED", {})
    monkeypatch.delitem(sys.modules, "httpx2._transports.default", raising=False)
    prebuild()

    assert [key[0] for key in tls._SHARED] == ["httpx._transports.default"]
    assert "httpx2._transports.default" not in sys.modules
