"""Hosts outside the simulation that a run may reach: ``--aqe-allow-host``.

Everything outside the simulation is blocked during a run, loopback included; a
project whose agent talks to a local model server or vector database names it
(``HOST`` for any port, ``HOST:PORT``, ``[IPv6]:PORT``). A request to an allowed
host really goes there: the client doors hand it back to the client's own
transport (:class:`~harness.gateway.exchange.PassThrough`), and the sandbox lets
its name lookup and TCP connection through. Nothing about it is recorded: it is
outside what the run is judged on, and whether a client opens one connection or
three is not deterministic.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from harness.gateway.exchange import Exchange, HttpReply, PassThrough

#: Taken at import, before any run patches the module.
_getaddrinfo = socket.getaddrinfo
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
_LABEL = re.compile(r"(?!-)[a-z0-9_-]{1,63}(?<!-)")
#: How to write an entry (the fix line of every error about one).
FORMS = "HOST or HOST:PORT, e.g. localhost, 127.0.0.1:11434 or [::1]:8080"


def normal_host(host: str) -> str:
    """A host as entries compare it: lower case, no brackets or final dot, an IP
    address in its canonical form."""
    text = host.strip().strip("[]").lower().rstrip(".")
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return text


@dataclass(frozen=True, slots=True, kw_only=True)
class AllowedHost:
    """One entry: a host name or IP address, and its port (None: any port)."""

    host: str
    port: int | None = None

    @classmethod
    def parse(cls, text: str) -> AllowedHost:
        """``HOST``, ``HOST:PORT``, ``IPv6`` or ``[IPv6]:PORT``; :class:`ValueError`
        saying what is wrong."""
        entry = text.strip()
        if not entry:
            raise ValueError("no host")
        if "/" in entry:
            raise ValueError("a URL or a path, not a host")
        port_text: str | None = None
        if entry.startswith("["):
            inner, bracket, rest = entry[1:].partition("]")
            if not bracket:
                raise ValueError("no ']' after the IPv6 address")
            if not _is_ip(inner, version=6):
                raise ValueError(f"{inner!r} in brackets is not an IPv6 address")
            if rest:
                if not rest.startswith(":"):
                    raise ValueError(f"{rest!r} after ']' is not ':PORT'")
                port_text = rest[1:]
            host = inner
        elif entry.count(":") > 1:  # a bare IPv6 address: no port
            if not _is_ip(entry, version=6):
                raise ValueError("not a host name or an IP address")
            host = entry
        else:
            host, colon, after = entry.partition(":")
            port_text = after if colon else None
            if not _is_ip(host) and not _is_name(host):
                raise ValueError(f"{host!r} is not a host name or an IP address")
        return cls(host=normal_host(host), port=_port(port_text))

    def text(self) -> str:
        """The entry as it is written (``host``, ``host:port``, ``[::1]:port``)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port is None else f"{host}:{self.port}"


def _port(text: str | None) -> int | None:
    if text is None:
        return None
    if not text.isascii() or not text.isdigit():
        raise ValueError(f"the port {text!r} is not a number")
    port = int(text)
    if not 1 <= port <= 65535:
        raise ValueError(f"the port {port} is outside 1-65535")
    return port


def _is_ip(text: str, *, version: int | None = None) -> bool:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return False
    return version is None or address.version == version


def _is_name(text: str) -> bool:
    name = text.lower().rstrip(".")
    return 0 < len(name) <= 253 and all(_LABEL.fullmatch(p) for p in name.split("."))


@dataclass(frozen=True, slots=True, kw_only=True)
class AllowedHosts:
    """The hosts a run may reach outside the simulation (none by default)."""

    entries: tuple[AllowedHost, ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[str | AllowedHost]) -> AllowedHosts:
        """Entries as ``--aqe-allow-host`` takes them (or parsed already);
        :class:`ValueError` for a bad one, or for a simulated host."""
        parsed = tuple(
            dict.fromkeys(
                e if isinstance(e, AllowedHost) else AllowedHost.parse(e)
                for e in entries
            )
        )
        if not parsed:  # the services are read only to check entries
            return cls()
        from fakes.registry import registered_services

        simulated = {h for s in registered_services() for h in s.hosts}
        for entry in parsed:
            if entry.host in simulated:
                raise ValueError(
                    f"{entry.host} is a simulated host, always reachable during a"
                    " run (inside the simulation); allow only hosts outside it"
                )
        return cls(entries=parsed)

    def __bool__(self) -> bool:
        return bool(self.entries)

    def permits(self, host: str, port: int) -> bool:
        """Whether a connection to ``host:port`` may leave the simulation."""
        name = normal_host(host)
        return any(e.host == name and e.port in (None, port) for e in self.entries)

    def resolves(self, host: str) -> bool:
        """Whether a name lookup of ``host`` may leave the simulation."""
        name = normal_host(host)
        return any(e.host == name for e in self.entries)

    def permits_url(self, url: str) -> bool:
        """Whether an HTTP request to ``url`` goes to an allowed host."""
        try:
            parts = urlsplit(url)
            port = parts.port or _DEFAULT_PORTS.get(parts.scheme.lower())
        except ValueError:
            return False
        host = parts.hostname
        return host is not None and port is not None and self.permits(host, port)

    def with_addresses(self) -> AllowedHosts:
        """These entries and, for each host name, the addresses it resolves to
        here (with its port), so a connection to ``127.0.0.1`` after a lookup of
        an allowed ``localhost`` is allowed too."""
        entries = list(self.entries)
        for entry in self.entries:
            if not _is_ip(entry.host):
                entries.extend(
                    AllowedHost(host=address, port=entry.port)
                    for address in _addresses(entry.host)
                )
        return AllowedHosts(entries=tuple(dict.fromkeys(entries)))

    def to_wire(self) -> list[list[str | int | None]]:
        return [[e.host, e.port] for e in self.entries]

    @classmethod
    def from_wire(cls, value: object) -> AllowedHosts:
        """The entries the harness sent (malformed ones dropped: the harness checks
        every connection again itself)."""
        entries = []
        for item in value if isinstance(value, list) else ():
            if isinstance(item, list) and len(item) == 2 and isinstance(item[0], str):
                port = item[1] if isinstance(item[1], int) else None
                entries.append(AllowedHost(host=normal_host(item[0]), port=port))
        return cls(entries=tuple(entries))

    def guard(self, exchange: Exchange) -> Exchange:
        """``exchange``, with requests to allowed hosts handed back to the client
        (:class:`PassThrough`); ``exchange`` itself when nothing is allowed."""
        if not self.entries:
            return exchange

        def guarded(
            method: str, url: str, headers: list[tuple[str, str]], body: bytes
        ) -> HttpReply:
            if self.permits_url(url):
                raise PassThrough(url)
            return exchange(method, url, headers, body)

        return guarded


@lru_cache(maxsize=64)
def _addresses(name: str) -> tuple[str, ...]:
    """What ``name`` resolves to here (nothing if it does not)."""
    try:
        found = _getaddrinfo(name, None, type=socket.SOCK_STREAM)
    except OSError:
        return ()
    return tuple(dict.fromkeys(normal_host(str(info[4][0])) for info in found))


#: Nothing outside the simulation (the default).
NOWHERE = AllowedHosts()
