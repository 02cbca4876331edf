"""Policy packs: what an agent may do, what needs a human, when it must stop.

:mod:`harness.policy.model` (the pack), :mod:`harness.policy.loader` (pack files),
:mod:`harness.policy.engine` (the gateway's checks).
"""
