"""One exception tree for the harness.

Two families, kept apart on purpose:

* ``HarnessError`` and its subclasses mean the harness was misused (a bad scenario,
  an agent path that does not import, a bad option). They are raised to the user.
* ``ToolError`` and its subclasses are what an *agent* sees when a simulated tool
  fails through the function-call door. They are part of the simulation, not bugs.
  ``ToolError`` itself is an error answer (a status); ``ToolAmbiguousError``
  (``ToolTimeout``, ``ToolConnectionError``, ``ToolMalformedResponse``) is no
  reliable answer at all, after which the effect may or may not have committed.

``RunAborted`` derives from ``BaseException`` so that an agent's blanket
``except Exception`` cannot swallow the harness stopping a runaway run.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class HarnessError(Exception):
    """Base class of every error caused by misusing the harness."""


class ScenarioError(HarnessError):
    """A scenario file or object is invalid; the message lists every problem."""

    def __init__(self, message: str, *, problems: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.problems = problems


class AgentLoadError(HarnessError):
    """The agent named by ``module:callable`` could not be imported or called."""


class BaselineError(HarnessError):
    """A baseline file is missing, unreadable, or not one this harness can read."""


class ContractError(HarnessError):
    """A fake produced a response that breaks its own contract (a harness bug)."""


class ToolError(Exception):
    """Base of every error a tool call raises to an agent (function-call door).

    Raised itself when the tool answered with an error status: ``status``, ``body``
    and ``headers`` are that answer. Its subclasses under ``ToolAmbiguousError``
    mean no reliable answer came back; catch those first where it matters.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        body: Mapping[str, Any],
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = dict(body)
        self.headers = dict(headers or {})

    @property
    def retry_after(self) -> float | None:
        """Seconds the service asked the caller to wait, when it said so."""
        value = self.headers.get("retry-after")
        return float(value) if value is not None else None


class ToolAmbiguousError(ToolError):
    """No reliable answer: the call may or may not have taken effect.

    ``status`` is the status that came with the unreadable answer, or 0 when no
    answer arrived; ``body`` and ``headers`` are empty.
    """

    def __init__(self, message: str, *, status: int = 0) -> None:
        super().__init__(message, status=status, body={})


class ToolTimeout(ToolAmbiguousError):
    """The tool call timed out: the caller cannot know whether it took effect."""

    def __init__(self, message: str) -> None:
        super().__init__(message)


class ToolConnectionError(ToolAmbiguousError):
    """The tool could not be reached (connection refused, reset, or blocked)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)


class ToolMalformedResponse(ToolAmbiguousError):
    """The tool answered, but its body is not valid JSON (``raw`` holds it).

    Like a timeout, the caller cannot tell from it whether the call took effect.
    """

    def __init__(self, message: str, *, status: int, raw: str) -> None:
        super().__init__(message, status=status)
        self.raw = raw


class RunAborted(BaseException):
    """The harness stopped the agent: a budget ran out or the agent hung."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
