"""The first process in a command agent's own namespaces (run as a script, with
the standard library only, so it starts in milliseconds).

It brings the loopback device up, listens on a port of ``127.0.0.1`` there and
hands that socket to the harness (which serves the simulation on it from its
own process), then starts the agent's command with the environment the harness
sends back. It is PID 1 of the namespace: it reaps every process, and when the
command ends (or the harness says ``kill``) it kills what the command left,
tells the harness how it went, and exits; the namespace goes with it.

The protocol, one JSON message per packet on the ``AQE_BOOT_FD`` socket:
boot → ``{"op": "listening", "port": N}`` with the socket; harness →
``{"argv": [...], "env": {...}}``; harness → ``{"op": "kill"}`` at any time;
boot → ``{"op": "exited", "status": S, "left": N, "snmp": TEXT, "snmp6": TEXT}``.
"""

from __future__ import annotations

import fcntl
import json
import os
import select
import signal
import socket
import struct
import sys
import time

_SIOCGIFFLAGS, _SIOCSIFFLAGS = 0x8913, 0x8914
_IFF_UP, _IFF_RUNNING = 0x1, 0x40
#: Wall seconds what the command left behind gets to end on its own.
GRACE = 0.5


def _loopback_up() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sh", b"lo", 0)
        flags = struct.unpack("16sh", fcntl.ioctl(sock, _SIOCGIFFLAGS, request))[1]
        raised = struct.pack("16sh", b"lo", flags | _IFF_UP | _IFF_RUNNING)
        fcntl.ioctl(sock, _SIOCSIFFLAGS, raised)


def _others() -> list[int]:
    """The namespace's processes other than this one."""
    return [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) != 1]


def _read(path: str) -> str:
    try:
        with open(path) as file:
            return file.read()
    except OSError:
        return ""


def main() -> int:
    control = socket.socket(fileno=int(os.environ["AQE_BOOT_FD"]))
    _loopback_up()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    port = listener.getsockname()[1]
    message = json.dumps({"op": "listening", "port": port}).encode()
    socket.send_fds(control, [message], [listener.fileno()])
    listener.close()
    spec = json.loads(control.recv(1 << 20) or b"{}")
    if "argv" not in spec:
        return 70
    os.set_inheritable(1, True)
    os.set_inheritable(2, True)
    child = os.posix_spawn(
        spec["argv"][0],
        spec["argv"],
        spec["env"],
        file_actions=[(os.POSIX_SPAWN_CLOSE, control.fileno())],
    )
    status: int | None = None
    killed = False
    while status is None:
        ready, _, _ = select.select([control], [], [], 0.02)
        if ready:
            asked = control.recv(4096)
            if not asked or json.loads(asked).get("op") == "kill":
                os.kill(-1, signal.SIGKILL)
                killed = True
        while True:
            try:
                pid, code = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                pid, code = 0, 0
                status = status if status is not None else 137 << 8
                break
            if pid == 0:
                break
            if pid == child:
                status = code
    left = 0
    deadline = time.monotonic() + (0 if killed else GRACE)
    while _others():
        if time.monotonic() >= deadline:
            left = left or len(_others())
            os.kill(-1, signal.SIGKILL)
        try:
            os.waitpid(-1, 0 if time.monotonic() >= deadline else os.WNOHANG)
        except ChildProcessError:
            break
        select.select([], [], [], 0.01)  # a wall-clock pause: none is simulated here
    report = {
        "op": "exited",
        "status": status,
        "left": left,
        "killed": killed,
        "snmp": _read("/proc/self/net/snmp"),
        "snmp6": _read("/proc/self/net/snmp6"),
    }
    control.send(json.dumps(report).encode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
