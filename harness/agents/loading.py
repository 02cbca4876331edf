"""Resolve ``module:callable`` into the agent under test, checked as the harness
will call it: ``agent(task, env)``."""

from __future__ import annotations

import inspect
import os
import shlex
import shutil
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from harness.errors import AgentLoadError
from harness.source.callables import load_callable

AgentCallable = Callable[..., Any]


def is_outside(spec: str) -> bool:
    """Whether ``spec`` names an agent outside the process (a command, a
    service): loading it imports nothing."""
    return spec.startswith(("cmd:", "http://", "https://"))


def load_agent(spec: str) -> AgentCallable:
    """Import ``package.module:callable`` (the current directory is importable)
    and check it takes ``(task, env)``; ``cmd:COMMAND`` is a command agent,
    ``http://HOST:PORT/PATH`` a service agent (:mod:`harness.runtime.outside`),
    checked as far as can be without running them."""
    if spec.startswith("cmd:"):
        command = spec[4:].strip()
        if not command:
            raise AgentLoadError(
                "cannot read agent 'cmd:': no command after 'cmd:'\n"
                "    fix: e.g. --aqe-agent 'cmd:node agents/refund.mjs'"
            )
        check_program(command, spec)
        from harness.runtime.outside import CommandAgent  # its TLS, only for it

        return CommandAgent(command=command)
    if spec.startswith(("http://", "https://")):
        parts = urlsplit(spec)
        if not parts.hostname:
            raise AgentLoadError(
                f"cannot read agent service {spec!r}: no host in the URL\n"
                "    fix: e.g. --aqe-agent http://127.0.0.1:8080/run"
            )
        try:
            parts.port  # noqa: B018 (a bad port raises here)
        except ValueError as exc:
            raise AgentLoadError(
                f"cannot read agent service {spec!r}: {exc}\n"
                "    fix: e.g. --aqe-agent http://127.0.0.1:8080/run"
            ) from None
        from harness.runtime.outside import ServiceAgent

        return ServiceAgent(url=spec)
    agent = load_callable(
        spec,
        what="agent",
        example="--aqe-agent harness.agents.reference:careful_refund_agent",
        error=AgentLoadError,
    )
    check_signature(agent, spec)
    return agent


#: How the harness calls an agent, for messages.
CONTRACT = "def agent(task: Task, env: AgentEnv) -> AgentResult | dict | None"


def check_signature(agent: AgentCallable, spec: str) -> None:
    """Raise :class:`AgentLoadError` unless ``agent(task, env)`` binds: the
    harness calls every agent so, and a wrong signature would otherwise fail
    each run with a ``TypeError`` from the harness's own call."""
    try:
        signature = inspect.signature(agent)
    except (TypeError, ValueError):  # a builtin without one: its call will tell
        return
    try:
        signature.bind(None, None)
    except TypeError as exc:
        name = getattr(agent, "__name__", None) or "agent"
        raise AgentLoadError(
            f"agent {spec!r} takes {signature}, but the harness calls it as"
            f" agent(task, env) ({exc})\n"
            f"    fix: define it as {CONTRACT.replace('agent', name, 1)}"
            ' (or async def); see "Writing an agent" in README.md'
        ) from None


#: Words ``/bin/sh`` runs itself: a command that starts with one names no program.
# fmt: off
_SHELL_WORDS = frozenset({
    ".", ":", "[", "!", "{", "alias", "bg", "break", "case", "cd", "command",
    "continue", "do", "done", "echo", "elif", "else", "esac", "eval", "exec", "exit",
    "export", "false", "fg", "fi", "for", "getopts", "hash", "if", "jobs", "kill",
    "printf", "pwd", "read", "readonly", "return", "set", "shift", "test", "then",
    "times", "trap", "true", "type", "ulimit", "umask", "unalias", "unset", "until",
    "wait", "while",
})
# fmt: on
#: Characters that make the first word shell syntax, not a program's name.
_SHELL_SYNTAX = set("$`()<>;&|*?[]~=\\'\"")


def check_program(command: str, spec: str) -> None:
    """Raise :class:`AgentLoadError` when the program a command starts with is
    not there (``sh`` would say ``not found`` in every run). A first word that
    is shell syntax or a shell builtin is left to the shell."""
    try:
        words = shlex.split(command)
    except ValueError as exc:
        raise AgentLoadError(
            f"cannot read agent {spec!r}: {exc}\n"
            "    fix: quote the command as /bin/sh would, e.g."
            " --aqe-agent 'cmd:node agents/refund.mjs'"
        ) from None
    program = words[0] if words else ""
    first = command.split(None, 1)[0]
    if not program or program in _SHELL_WORDS or _SHELL_SYNTAX & set(first):
        return
    if "/" in program:
        if os.access(program, os.X_OK) and os.path.isfile(program):
            return
        problem = f"{program} is not an executable file (from {os.getcwd()})"
    elif shutil.which(program) is not None:
        return
    else:
        problem = f"no program {program!r} on PATH"
    raise AgentLoadError(
        f"cannot run agent {spec!r}: {problem}\n"
        "    fix: install it, or name it by its path (the command runs with"
        " /bin/sh -c in the session's directory)"
    )
