"""The SDK agent README's "Writing an agent" shows passes, as written."""

from __future__ import annotations

import re
from typing import Any

import pytest

from harness import run_scenario
from tests.conftest import ROOT, payments_scenario

pytest.importorskip("slack_sdk")


def test_the_readme_sdk_agent_passes_refund_ok() -> None:
    text = (ROOT / "README.md").read_text()
    (code,) = re.findall(
        r"```python\n(import requests\nimport stripe\n.*?)```", text, re.S
    )
    namespace: dict[str, Any] = {}
    exec(compile(code, "README.md", "exec"), namespace)

    result = run_scenario(payments_scenario("refund_ok"), namespace["refund_agent"])

    assert result.passed, result.scores
    assert [e.operation for e in result.world.ledger] == [
        "create_refund",
        "chat_post_message",
    ]
