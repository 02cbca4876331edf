"""The careful client the reference agents share, against a scripted tool."""

from __future__ import annotations

from typing import Any, cast

import pytest

from harness import ToolError, ToolTimeout
from harness.agents._careful import (
    BACKING_OFF_WRITES,
    INSISTENT,
    PERSISTENT,
    STOPPING,
    CarefulClient,
    Failed,
    Retry,
    Stop,
    await_decision,
)


class Script:
    """A tool that answers from a script: an exception is raised, a dict returned."""

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def call(self, name: str, /, **args: Any) -> Any:
        self.calls.append((name, args))
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer


@pytest.fixture
def pauses(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    slept: list[float] = []
    monkeypatch.setattr("harness.agents._careful.time.sleep", slept.append)
    return slept


def busy(retry_after: str | None = None) -> ToolError:
    headers = {"retry-after": retry_after} if retry_after else None
    return ToolError("busy", status=503, body={}, headers=headers)


def client(script: Script, **fields: Any) -> CarefulClient:
    return CarefulClient(tools=cast(Any, script), **fields)


def test_a_busy_service_is_retried_after_a_pause_that_honours_retry_after(
    pauses: list[float],
) -> None:
    script = Script(busy("10"), busy(), {"ok": True})
    assert client(script).call("get_thing", thing="t1") == {"ok": True}
    assert pauses == [10.0, 2.0]
    assert script.calls == [("get_thing", {"thing": "t1"})] * 3


def test_a_longer_wait_lengthens_every_later_pause_when_the_manner_keeps_it(
    pauses: list[float],
) -> None:
    script = Script(busy("10"), busy(), {"ok": True})
    client(script, retry=PERSISTENT).call("get_thing")
    assert pauses == [10.0, 20.0]


def test_the_last_failure_becomes_failed_naming_the_status_or_the_kind(
    pauses: list[float],
) -> None:
    with pytest.raises(Failed, match=r"^get_thing: HTTP 503$"):
        client(Script(*[busy()] * 4)).call("get_thing")
    with pytest.raises(Failed, match=r"^get_thing: ToolTimeout$"):
        client(Script(*[ToolTimeout("late")] * 4)).call("get_thing")
    assert pauses == [1.0, 2.0, 4.0] * 2


def test_a_refusal_is_raised_as_it_came(pauses: list[float]) -> None:
    refusal = ToolError("no", status=422, body={"error": {"code": "nope"}})
    with pytest.raises(ToolError) as info:
        client(Script(refusal)).call("update_thing")
    assert info.value is refusal
    assert pauses == []


def test_an_unkeyed_write_whose_answer_was_lost_is_not_sent_again(
    pauses: list[float],
) -> None:
    unkeyed = Script(ToolTimeout("late"))
    with pytest.raises(Failed, match=r"^create_thing: ToolTimeout$"):
        client(unkeyed, writes=BACKING_OFF_WRITES).write("create_thing")
    keyed = Script(ToolTimeout("late"), {"id": "t1"})
    written = client(keyed, writes=BACKING_OFF_WRITES).write(
        "create_thing", idempotency_key="k"
    )
    assert written == {"id": "t1"}
    assert len(unkeyed.calls) == 1
    assert keyed.calls == [("create_thing", {"idempotency_key": "k"})] * 2
    assert pauses == [2.0]


def test_a_guarded_write_reads_back_before_it_writes_again(
    pauses: list[float],
) -> None:
    script = Script(ToolTimeout("late"))
    found = client(script).write("add_comment", lambda: {"id": "c1"}, body="hi")
    assert found == {"id": "c1"}
    assert script.calls == [("add_comment", {"body": "hi"})]
    assert pauses == []


def test_a_stopping_read_hands_a_missing_record_to_a_human(
    pauses: list[float],
) -> None:
    missing = ToolError("gone", status=404, body={})
    with pytest.raises(Stop) as info:
        client(Script(missing), retry=STOPPING).call("get_ticket")
    assert (info.value.reason, info.value.summary) == (
        "missing_data",
        "get_ticket found nothing: gone",
    )


def test_a_failed_escalation_is_reported_when_the_client_says_so(
    pauses: list[float],
) -> None:
    script = Script(*[busy()] * 3)
    result = client(script, escalations=INSISTENT, failed_escalation="report").escalate(
        "tool_failure", "it broke", ["t1"]
    )
    assert (result.status, result.summary) == ("failed", "could not escalate: it broke")
    assert pauses == [1.0, 2.0]
    with pytest.raises(ToolError):
        client(Script(busy())).escalate("tool_failure", "it broke", ["t1"])


def test_an_approval_is_polled_from_five_minutes_doubling_to_an_hour(
    pauses: list[float],
) -> None:
    statuses = iter(["pending"] * 4 + ["approved"])
    assert await_decision(lambda: next(statuses)) == "approved"
    assert pauses == [300.0, 600.0, 1200.0, 2400.0]


def test_an_approval_still_pending_after_26_hours_is_pending(
    pauses: list[float],
) -> None:
    fetched: list[str] = []

    def fetch() -> str:
        fetched.append("pending")
        return "pending"

    assert await_decision(fetch) == "pending"
    assert sum(pauses) > 26 * 3600
    assert len(fetched) == len(pauses)  # no look after the last wait
    fetched.clear()
    pauses.clear()
    assert await_decision(fetch, "pending") == "pending"
    assert len(fetched) == len(pauses)  # the request answered first


def test_the_approval_request_goes_once_and_its_decision_is_polled(
    pauses: list[float],
) -> None:
    script = Script(
        {"id": "apr_1", "status": "pending"},
        {"id": "apr_1", "status": "pending"},
        {"id": "apr_1", "status": "denied"},
    )
    decision = client(script).approval("iam.grant", {"user": "u1"}, "why")
    assert decision == "denied"
    assert [name for name, _ in script.calls] == [
        "request_approval",
        "get_approval",
        "get_approval",
    ]
    assert script.calls[0][1] == {
        "action": "iam.grant",
        "params": {"user": "u1"},
        "justification": "why",
    }
    assert pauses == [300.0]


def test_a_manner_changes_one_option_at_a_time() -> None:
    assert Retry().but(attempts=2) == Retry(attempts=2)
    changed = client(Script()).but(attempts=1)
    assert changed.retry.attempts == 1
    assert changed.writes is None
