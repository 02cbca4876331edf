"""Adapters: ``env.tools`` in the shapes agent frameworks take, each an optional
extra (``pip install 'aqe-harness[langgraph]'`` for :mod:`.langchain`,
``'aqe-harness[pydantic-ai]'`` for :mod:`.pydantic_ai`,
``'aqe-harness[openai-agents]'`` for :mod:`.openai_agents`).

An adapter only wraps: every call it makes is ``env.tools.call``, the one
gateway path, with the run's contracts, policy, faults and history; a model it
gives is the framework's own client for the simulated provider, on that path
too."""
