"""Linux namespaces for agents in their own processes: can they be had here,
and what did the kernel see the agent try on the network.

An agent in a network namespace of its own has only a loopback device: a
connection to anywhere else fails at once (no route), and the kernel counts the
attempt. Those counters are read through any process still in the namespace
(``/proc/PID/net/snmp``), so an attempt the agent's code hid from every Python
guard is still found, and fails ``security``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

#: ``unshare`` for an agent's process: user, network, PID and mount namespaces,
#: a fresh /proc, and every process in them killed when ``unshare`` goes.
UNSHARE = (
    "unshare",
    "--user",
    "--map-root-user",
    "--net",
    "--pid",
    "--mount",
    "--mount-proc",
    "--fork",
    "--kill-child",
)
#: The counters that move when a process tries the network: a packet with no
#: route, a TCP connect, a UDP datagram (IPv4 and IPv6).
KERNEL_COUNTERS = (
    ("snmp", "Ip", "OutNoRoutes"),
    ("snmp", "Tcp", "ActiveOpens"),
    ("snmp", "Udp", "OutDatagrams"),
    ("snmp6", "Ip6", "OutNoRoutes"),
    ("snmp6", "Udp6", "OutDatagrams"),
)

_NAMESPACES_OK: list[bool] = []


def namespaces_unavailable() -> str | None:
    """Why ``unshare`` cannot make the namespaces here, or None if it can."""
    if _NAMESPACES_OK:
        return None
    if not sys.platform.startswith("linux"):
        return f"{sys.platform} has no Linux namespaces"
    try:
        done = subprocess.run(
            [*UNSHARE, "true"], capture_output=True, timeout=10.0, check=False
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return f"cannot run unshare: {exc}"
    if done.returncode != 0:
        error = done.stderr.decode(errors="replace").strip().splitlines()
        return f"unshare failed: {error[-1] if error else done.returncode}"
    _NAMESPACES_OK.append(True)
    return None


def netns_of(pid: int | str) -> str | None:
    """The network namespace process ``pid`` is in (``self`` for this one)."""
    try:
        return os.readlink(f"/proc/{pid}/ns/net")
    except OSError:
        return None


def kernel_attempts(pid: int | str) -> int:
    """Network attempts the kernel has counted in ``pid``'s namespace (a
    namespace that is gone counts 0)."""
    return counted_attempts(
        _read(Path(f"/proc/{pid}/net/snmp")), _read(Path(f"/proc/{pid}/net/snmp6"))
    )


def counted_attempts(snmp: str, snmp6: str) -> int:
    """The counters of :data:`KERNEL_COUNTERS`, summed, from the text of a
    namespace's ``/proc/net/snmp`` and ``/proc/net/snmp6``."""
    texts = {"snmp": snmp, "snmp6": snmp6}
    return sum(
        _counter(texts[table], table, group, name)
        for table, group, name in KERNEL_COUNTERS
    )


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _counter(text: str, table: str, group: str, name: str) -> int:
    if table == "snmp6":  # "Ip6OutNoRoutes   3"
        for line in text.splitlines():
            key, _, value = line.partition(" ")
            if key == group + name:
                return int(value.strip() or 0)
        return 0
    lines = text.splitlines()
    for header, values in zip(lines[::2], lines[1::2], strict=False):
        keys, numbers = header.split(), values.split()
        if keys and keys[0] == group + ":" and name in keys:
            return int(numbers[keys.index(name)])
    return 0
