"""``--aqe-allow-host``: a host outside the simulation that runs may reach (a local
model server, a vector database), by every client, in the harness's process and
in the agent's own (whose network namespace has no route to the host's loopback:
the harness connects for it), while every other host stays blocked."""

from __future__ import annotations

import asyncio
import http.server
import json
import socket
import threading
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import aiohttp
import httpx
import httpx2
import pytest
import requests

from harness import AgentEnv, Task, run_scenario
from harness.gateway.allow import AllowedHost, AllowedHosts
from harness.isolation import ProcessIsolation
from harness.run import RunResult
from harness.runtime.session import InProcessIsolation, Isolation
from tests.conftest import copy_payments, small_scenario

# -- the agent: one fetch of task.input["url"] with the client it names ------------


#: one worker runs this module: its module-scoped set-up is made once (--dist loadgroup)
pytestmark = pytest.mark.xdist_group("gateway.test_allowed_hosts")


def _raw(url: str, connect: Callable[[str, int], socket.socket]) -> dict[str, Any]:
    parts = httpx.URL(url)
    sock = connect(parts.host, parts.port or 80)
    with sock:
        sock.sendall(
            f"GET {parts.raw_path.decode()} HTTP/1.0\r\nHost: {parts.host}\r\n\r\n".encode()
        )
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return {"status": int(head.split()[1]), "body": body.decode()}


def _socket_connect(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(5)
    sock.connect((host, port))
    return sock


def _urllib(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return {"status": response.status, "body": response.read().decode()}


SYNC: dict[str, Callable[[str], dict[str, Any]]] = {
    "socket": lambda url: _raw(url, _socket_connect),
    "create_connection": lambda url: _raw(
        url, lambda h, p: socket.create_connection((h, p), timeout=5)
    ),
    "httpx": lambda url: _reply(httpx.get(url, timeout=5)),
    "httpx2": lambda url: _reply(httpx2.get(url, timeout=5)),
    "requests": lambda url: _reply(requests.get(url, timeout=5)),
    "urllib": _urllib,
}


def _in_a_thread(url: str) -> dict[str, Any]:
    """requests, from a thread the agent starts (its pool, an SDK's worker)."""
    seen: dict[str, Any] = {}

    def work() -> None:
        try:
            seen.update(_reply(requests.get(url, timeout=5)))
        except Exception as exc:
            seen["error"] = type(exc).__name__

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    return seen


SYNC["requests_in_a_thread"] = _in_a_thread


def _udp(url: str) -> dict[str, Any]:
    """A datagram to the host and port of ``url`` (allowed hosts are TCP only)."""
    parts = httpx.URL(url)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.connect((parts.host, parts.port or 80))
        sock.send(b"GET")
    return {"sent": True}


#: Clients whose way out an allowed host does not open.
NOT_OPENED = {"udp": _udp}


def _reply(response: Any) -> dict[str, Any]:
    return {"status": response.status_code, "body": response.text}


async def _httpx_async(url: str) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=5) as client:
        return _reply(await client.get(url))


async def _httpx2_async(url: str) -> dict[str, Any]:
    async with httpx2.AsyncClient(timeout=5) as client:
        return _reply(await client.get(url))


async def _aiohttp(url: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return {"status": response.status, "body": await response.text()}


async def _asyncio_stream(url: str) -> dict[str, Any]:
    parts = httpx.URL(url)
    reader, writer = await asyncio.open_connection(parts.host, parts.port)
    writer.write(f"GET {parts.raw_path.decode()} HTTP/1.0\r\n\r\n".encode())
    data = await reader.read()
    writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return {"status": int(head.split()[1]), "body": body.decode()}


ASYNC = {
    "httpx_async": _httpx_async,
    "httpx2_async": _httpx2_async,
    "aiohttp": _aiohttp,
    "asyncio": _asyncio_stream,
}
CLIENTS = [*SYNC, *ASYNC]


def fetch(task: Task, env: AgentEnv) -> Any:
    """Fetch ``task.input["url"]`` with ``task.input["client"]``; say what came."""
    client, url = task.input["client"], task.input["url"]
    if client in ASYNC:
        return _answering(ASYNC[client](url))
    try:
        return {"status": "done", "output": {**SYNC, **NOT_OPENED}[client](url)}
    except Exception as exc:
        return {"status": "done", "output": {"error": type(exc).__name__}}


def forges_its_allow_list(task: Task, env: AgentEnv) -> Any:
    """In its own process, tells its sandbox that every host is allowed."""
    from harness.gateway import allow

    allow.AllowedHosts.permits = lambda self, host, port: True  # type: ignore[method-assign]
    return fetch(task, env)


async def _answering(coro: Any) -> Any:
    try:
        return {"status": "done", "output": await coro}
    except Exception as exc:
        return {"status": "done", "output": {"error": type(exc).__name__}}


# -- the world outside: an HTTP server on the host's loopback ----------------------


class Server:
    """An HTTP server on 127.0.0.1 that keeps the paths it was asked for."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        heard = self.paths

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                heard.append(self.path)
                body = json.dumps({"model": "local", "path": self.path}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.http = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.http.server_address[1]
        self._thread = threading.Thread(target=self.http.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    running = Server()
    yield running
    running.close()


@pytest.fixture
def heard(server: Server) -> list[str]:
    server.paths.clear()
    return server.paths


@pytest.fixture
def other_port() -> Iterator[socket.socket]:
    """A listener on another port of 127.0.0.1 (not allowed)."""
    with socket.create_server(("127.0.0.1", 0)) as sock:
        sock.setblocking(False)
        yield sock


@pytest.fixture(scope="module")
def allowing(server: Server) -> Iterator[dict[str, Isolation]]:
    """Both ways of running, each allowing the server's port of 127.0.0.1."""
    allow = [f"127.0.0.1:{server.port}"]
    isolated = ProcessIsolation(allow_hosts=allow)
    yield {"in-process": InProcessIsolation(allow_hosts=allow), "isolated": isolated}
    isolated.close()


@pytest.fixture(scope="module")
def allowing_localhost() -> Iterator[dict[str, Isolation]]:
    """Both ways of running, each allowing the name ``localhost`` (any port)."""
    isolated = ProcessIsolation(allow_hosts=["localhost"])
    yield {
        "in-process": InProcessIsolation(allow_hosts=["localhost"]),
        "isolated": isolated,
    }
    isolated.close()


WAYS = ["in-process", "isolated"]


def _fetch(
    isolation: Isolation | None,
    client: str,
    url: str,
    agent: Callable[..., Any] = fetch,
) -> RunResult:
    scenario = small_scenario(
        task={"instructions": "Fetch {url}", "input": {"client": client, "url": url}}
    )
    result = run_scenario(scenario, agent, seed=5, isolation=isolation)
    assert result.sandbox == (
        "none"
        if isolation is None or isinstance(isolation, InProcessIsolation)
        else "kernel"
    )
    return result


def _output(result: RunResult) -> dict[str, Any]:
    assert result.agent_result is not None, [
        f"{s.oracle}: {s.explanation}" for s in result.scores
    ]
    return dict(result.agent_result.output)


# -- allowed: it really goes there, and passes security ----------------------------


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("client", CLIENTS)
def test_an_allowed_host_is_reached_by_every_client_and_passes_security(
    client: str,
    way: str,
    allowing: dict[str, Isolation],
    server: Server,
    heard: list[str],
) -> None:
    url = f"http://127.0.0.1:{server.port}/api/generate?via={client}"
    result = _fetch(allowing[way], client, url)

    assert _output(result) == {
        "status": 200,
        "body": json.dumps({"model": "local", "path": f"/api/generate?via={client}"}),
    }
    assert heard == [f"/api/generate?via={client}"]
    assert result.failed_oracles == ()
    assert not [e for e in result.world.history if e.process == "security"]


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("client", ["socket", "httpx", "requests", "aiohttp"])
def test_an_allowed_name_resolves_and_reaches_its_host(
    client: str,
    way: str,
    allowing_localhost: dict[str, Isolation],
    server: Server,
    heard: list[str],
) -> None:
    url = f"http://localhost:{server.port}/v1/embeddings"
    result = _fetch(allowing_localhost[way], client, url)

    assert _output(result)["status"] == 200
    assert heard == ["/v1/embeddings"]
    assert result.failed_oracles == ()


# -- not allowed: blocked, recorded, never reached ---------------------------------


@pytest.mark.parametrize("client", CLIENTS)
def test_without_the_option_the_host_is_blocked_and_fails_security(
    client: str,
    where: ProcessIsolation | None,
    server: Server,
    heard: list[str],
) -> None:
    url = f"http://127.0.0.1:{server.port}/api/generate"
    result = _fetch(where, client, url)

    assert "error" in _output(result)
    assert heard == []
    assert result.failed_oracles == ("security",)


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("client", ["socket", "httpx", "requests", "aiohttp"])
def test_an_allowed_port_leaves_the_other_ports_of_its_host_blocked(
    client: str,
    way: str,
    allowing: dict[str, Isolation],
    other_port: socket.socket,
) -> None:
    url = f"http://127.0.0.1:{other_port.getsockname()[1]}/admin"
    result = _fetch(allowing[way], client, url)

    assert "error" in _output(result)
    assert result.failed_oracles == ("security",)
    with pytest.raises(BlockingIOError):
        other_port.accept()


@pytest.mark.parametrize("way", WAYS)
def test_an_allowed_host_does_not_open_other_hosts(
    way: str, allowing: dict[str, Isolation], server: Server, heard: list[str]
) -> None:
    result = _fetch(allowing[way], "requests", "https://example.com/exfiltrate")

    assert _output(result) == {"error": "ConnectionError"}
    assert result.failed_oracles == ("security",)
    assert heard == []


@pytest.mark.parametrize("way", WAYS)
def test_udp_to_an_allowed_host_stays_blocked(
    way: str, allowing: dict[str, Isolation], server: Server
) -> None:
    url = f"udp://127.0.0.1:{server.port}"
    result = _fetch(allowing[way], "udp", url)

    assert _output(result) == {"error": "ConnectionRefusedError"}
    assert result.failed_oracles == ("security",)
    (evidence,) = result.score("security").evidence
    # (a UDP connect's entry says tcp:// in the Python-level guard, as before)
    assert evidence.text.startswith("blocked CONNECT ")
    assert evidence.text.endswith(f"://127.0.0.1:{server.port} (via socket)")


def test_the_harness_checks_each_connection_itself_not_the_agents_process(
    allowing: dict[str, Isolation], other_port: socket.socket
) -> None:
    port = other_port.getsockname()[1]
    url = f"http://127.0.0.1:{port}/admin"
    result = _fetch(allowing["isolated"], "socket", url, forges_its_allow_list)

    assert _output(result) == {"error": "ConnectionRefusedError"}
    assert result.failed_oracles == ("security",)
    (evidence,) = result.score("security").evidence
    assert evidence.text == f"blocked CONNECT tcp://127.0.0.1:{port} (via socket)"
    with pytest.raises(BlockingIOError):
        other_port.accept()


# -- the entries -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "host", "port"),
    [
        ("localhost", "localhost", None),
        ("LocalHost.:11434", "localhost", 11434),
        ("127.0.0.1:8080", "127.0.0.1", 8080),
        ("::1", "::1", None),
        ("[::1]:8080", "::1", 8080),
        ("[0:0::1]", "::1", None),
        ("models.internal:443", "models.internal", 443),
    ],
)
def test_entries_name_a_host_and_maybe_a_port(
    text: str, host: str, port: int | None
) -> None:
    entry = AllowedHost.parse(text)
    assert (entry.host, entry.port) == (host, port)
    assert AllowedHost.parse(entry.text()) == entry


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", "no host"),
        ("localhost:0", "the port 0 is outside 1-65535"),
        ("localhost:65536", "the port 65536 is outside 1-65535"),
        ("localhost:http", "the port 'http' is not a number"),
        ("localhost:", "the port '' is not a number"),
        ("[::1", "no ']' after the IPv6 address"),
        ("[localhost]:80", "'localhost' in brackets is not an IPv6 address"),
        ("[::1]8080", "'8080' after ']' is not ':PORT'"),
        ("not a host", "'not a host' is not a host name or an IP address"),
        ("http://localhost:11434", "a URL or a path, not a host"),
        ("::1::2", "not a host name or an IP address"),
    ],
)
def test_a_bad_entry_says_what_is_wrong(text: str, error: str) -> None:
    with pytest.raises(ValueError, match="^" + error.replace("[", r"\[") + "$"):
        AllowedHost.parse(text)


def test_a_port_given_allows_that_port_only_and_none_given_allows_any() -> None:
    allowed = AllowedHosts.parse(["127.0.0.1:8080", "[::1]"])
    assert allowed.permits("127.0.0.1", 8080)
    assert not allowed.permits("127.0.0.1", 8081)
    assert allowed.permits("::1", 1)
    assert allowed.permits("0::1", 65535)
    assert not allowed.permits("localhost", 8080)
    assert allowed.permits_url("http://127.0.0.1:8080/x")
    assert not allowed.permits_url("http://127.0.0.1/x")
    assert allowed.permits_url("https://[::1]/x")
    assert allowed.resolves("127.0.0.1")
    assert not allowed.resolves("example.com")


def test_a_name_allows_the_addresses_it_resolves_to() -> None:
    allowed = AllowedHosts.parse(["localhost:8080"]).with_addresses()
    assert allowed.permits("127.0.0.1", 8080)
    assert not allowed.permits("127.0.0.1", 8081)


# -- the pytest session: the option, the ini key, and their usage errors -----------

LOCAL_AGENT = """
import json
import urllib.request

from harness.agents.library import careful_agent


def asks_the_local_model(task, env):
    with urllib.request.urlopen("http://127.0.0.1:{port}/api/chat", timeout=5) as r:
        json.loads(r.read())
    return careful_agent(task, env)
"""


def _session(
    pytester: pytest.Pytester, server: Server, ini: str, *args: str
) -> pytest.RunResult:
    copy_payments(pytester)
    pytester.makeini(f"[pytest]\n{ini}")
    pytester.makepyfile(local_agent=LOCAL_AGENT.replace("{port}", str(server.port)))
    pytester.syspathinsert()
    return pytester.runpytest(
        "scenarios/payments/refund_ok.yaml",
        "--aqe-agent=local_agent:asks_the_local_model",
        *args,
    )


@pytest.mark.parametrize("isolation", ["process", "none"])
def test_a_session_reaches_the_hosts_its_ini_and_options_allow(
    pytester: pytest.Pytester, server: Server, heard: list[str], isolation: str
) -> None:
    result = _session(
        pytester,
        server,
        f"aqe_allow_hosts =\n    localhost:11434\n    127.0.0.1:{server.port}\n",
        "--aqe-allow-host=[::1]:8080",
        f"--aqe-isolation={isolation}",
    )
    result.stdout.fnmatch_lines(["1/1 scenario runs passed; aqe gate: PASS*"])
    assert result.ret == 0
    assert heard == ["/api/chat"]


def test_a_session_without_the_host_allowed_fails_security(
    pytester: pytest.Pytester, server: Server, heard: list[str]
) -> None:
    result = _session(pytester, server, "aqe_allow_hosts = localhost:1\n")
    result.stdout.fnmatch_lines(
        [
            "  [[]block[]] security: 1 outbound request(s) to hosts outside the"
            " simulation were blocked",
            "      history#0   t=+0.000s     blocked GET http://127.0.0.1/api/chat"
            " (via http)",
            "0/1 scenario runs passed; aqe gate: FAIL (exit 1)",
        ]
    )
    assert result.ret == 1
    assert heard == []


@pytest.mark.parametrize(
    ("where", "args", "lines"),
    [
        (
            "option",
            ["--aqe-allow-host=localhost:99999"],
            [
                "ERROR: aqe: --aqe-allow-host 'localhost:99999': the port 99999 is"
                " outside 1-65535",
                "    fix: HOST or HOST:PORT, e.g. localhost, 127.0.0.1:11434 or"
                " [::1]:8080",
            ],
        ),
        (
            "option",
            ["--aqe-allow-host=::1:8080:", "--aqe-allow-host=localhost"],
            [
                "ERROR: aqe: --aqe-allow-host '::1:8080:': not a host name or an IP"
                " address",
                "    fix: HOST or HOST:PORT, e.g. localhost, 127.0.0.1:11434 or"
                " [::1]:8080",
            ],
        ),
        (
            "ini",
            [],
            [
                "ERROR: aqe: ini aqe_allow_hosts 'http://localhost:11434': a URL or a"
                " path, not a host",
                "    fix: HOST or HOST:PORT, e.g. localhost, 127.0.0.1:11434 or"
                " [::1]:8080",
            ],
        ),
        (
            "simulated",
            ["--aqe-allow-host=PAYMENTS.sim:443"],
            [
                "ERROR: aqe: --aqe-allow-host 'PAYMENTS.sim:443': payments.sim is a"
                " simulated host, always reachable during a run (inside the"
                " simulation)",
                "    fix: allow only hosts outside the simulation, such as a local"
                " model server",
            ],
        ),
    ],
)
def test_a_bad_allowed_host_is_a_usage_error(
    pytester: pytest.Pytester, where: str, args: list[str], lines: list[str]
) -> None:
    copy_payments(pytester)
    if where == "ini":
        pytester.makeini(
            "[pytest]\naqe_allow_hosts =\n    localhost\n    http://localhost:11434\n"
        )
    result = pytester.runpytest(
        "scenarios/payments/refund_ok.yaml",
        "--aqe-agent=harness.agents.library:careful_agent",
        *args,
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(lines)


@pytest.mark.parametrize("make", ["process", "in_process"])
def test_allowing_a_simulated_host_from_python_is_refused(make: str) -> None:
    from harness.isolation import ProcessIsolation
    from harness.runtime.session import InProcessIsolation

    kind = ProcessIsolation if make == "process" else InProcessIsolation
    with pytest.raises(ValueError, match="simulated host") as info:
        kind(allow_hosts=["127.0.0.1:8080", "API.stripe.com"])
    assert str(info.value) == (
        "api.stripe.com is a simulated host, always reachable during a run (inside"
        " the simulation); allow only hosts outside it"
    )
