"""``aqe new scenario NAME``: a commented starting file that loads as it is."""

from __future__ import annotations

import os
import re
from pathlib import Path

from harness.errors import HarnessError
from harness.scenario.schema_build import SCHEMA_PATH

_NAME = re.compile(r"^[a-z0-9][a-z0-9_\-]*$")

TEMPLATE = """\
# yaml-language-server: $schema={schema}
# A scenario: the task an agent gets, the world it acts in, the faults it meets,
# the rules it works under, and what must hold when it is done.
# Check it with `aqe validate {path}`; run it with
# `aqe run {path} --agent module:callable`.
name: {name}
# One line: what this tests and why it matters.
rationale: Replace me with what this scenario tests and why it matters.
tags: [draft]           # become pytest markers: pytest -m draft
severity: block         # block fails the run; warn and info only report
task:
  instructions: >-
    Refund {{amount}} {{currency}} on charge {{charge}} for ticket {{ticket_id}}.
  input: {{ticket_id: $ticket.id, charge: $charge.id, amount: 1500, currency: usd}}
world:
  records:              # named records on top of the seeded world ($charge.id)
    charge:
      {{service: payments, kind: charge, amount: 4000, status: succeeded}}
    ticket:
      {{service: tickets, kind: ticket, subject: Refund request, charge: $charge.id}}
faults:                 # what goes wrong (see the README's fault table)
  - id: lost-answer
    kind: timeout
    commit: after       # the refund commits, the answer is lost: ambiguous
    match: {{tool: create_refund}}
    when: {{call: 1}}
policy:                 # or a pack file: policy: ../policies/refund_agent.yaml
  approvals:
    - {{action: payments.refund, when: "amount > 50000"}}
humans:
  approver: {{decision: approve, after: 2h}}
expect:
  idempotency: {{key: "refund:$charge.id", max_effects: 1}}
  escalation: forbidden
  outcome:
    - {{service: payments, count: refunds, where: {{charge: $charge.id}}, equals: 1}}
"""


def new_scenario(name: str, directory: Path) -> Path:
    """Write ``directory/name.yaml`` from the template; never overwrite a file."""
    if not _NAME.match(name):
        raise HarnessError(
            f"invalid scenario name {name!r}\n    fix: use lowercase letters, digits,"
            " '_' and '-', starting with a letter or digit (e.g. refund_twice)"
        )
    path = directory / f"{name}.yaml"
    if path.exists():
        raise HarnessError(
            f"{path} already exists\n    fix: choose another name, or remove the file"
        )
    directory.mkdir(parents=True, exist_ok=True)
    schema = os.path.relpath(SCHEMA_PATH, directory.resolve())
    path.write_text(
        TEMPLATE.format(schema=schema, name=name, path=path), encoding="utf-8"
    )
    return path
