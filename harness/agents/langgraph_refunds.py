"""A LangGraph refund agent: a ReAct graph on ``ChatOpenAI``, its tools
``env.tools`` through :func:`harness.adapters.langchain.tools`.

The graph is LangGraph's own ReAct loop (``StateGraph`` over ``MessagesState``:
a model node, a ``ToolNode``, ``tools_condition`` between them), built as the
LangGraph docs build it; ``langgraph.prebuilt.create_react_agent`` is
deprecated in LangGraph 1.x (for ``langchain.agents.create_agent``, another
package), and the graph it made is this one. ``ChatOpenAI(model="gpt-6.1-sol")``
talks to the default base URL with ``OPENAI_API_KEY`` (the harness sets both:
the simulated provider at api.openai.com); langchain-openai sends a gpt-6 model
that has tools over the Responses API, so that is the endpoint the run sees. The
tools run in LangGraph's executor threads (the sandbox runs that work inline, in
simulated time).

The models are :mod:`harness.agents.llm_refunds`' (they read the conversation
from the wire, whichever SDK sent it): with ``careful_model`` the agent checks
a timed-out refund before it retries with the same key and passes; with
``naive_model`` it retries without a key and fails ``idempotency``.

    aqe run scenarios/llm/langgraph_refund_ambiguous_timeout.yaml \\
        --agent harness.agents.langgraph_refunds:careful_agent \\
        --aqe-model harness.agents.llm_refunds:naive_model
"""

from __future__ import annotations

from typing import Any

from langchain_core.messages import HumanMessage, SystemMessage
from langchain_core.tools import BaseTool, StructuredTool
from langchain_openai import ChatOpenAI
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.prebuilt import ToolNode, tools_condition

from harness.adapters.langchain import tools
from harness.agents._llm import prompt, run_tool, tool_specs
from harness.agents.llm_refunds import MAX_TURNS, MODEL, SYSTEM, TOOLS
from harness.runtime.env import AgentEnv, AgentResult, Task
from harness.runtime.imports import agent_imports


@agent_imports("openai.resources.responses")
def careful_agent(task: Task, env: AgentEnv) -> AgentResult:
    """The ReAct graph, run on the task until the model answers in text."""
    graph = build_graph(env)
    state = graph.invoke(
        {"messages": [SystemMessage(SYSTEM), HumanMessage(prompt(task))]},
        {"recursion_limit": 2 * MAX_TURNS + 1},
    )
    summary = state["messages"][-1].text
    escalated = summary.lower().startswith("escalated")
    return AgentResult(status="escalated" if escalated else "done", summary=summary)


def build_graph(env: AgentEnv) -> CompiledStateGraph[Any, Any, Any, Any]:
    """model -> tools -> model … until the model calls no tool."""
    offered = [*tools(env, TOOLS), _wait_for_approval(env)]
    model = ChatOpenAI(model=MODEL).bind_tools(offered)

    def agent(state: MessagesState) -> dict[str, Any]:
        return {"messages": [model.invoke(state["messages"])]}

    graph = StateGraph(MessagesState)
    graph.add_node("agent", agent)
    graph.add_node("tools", ToolNode(offered))
    graph.add_edge(START, "agent")
    graph.add_conditional_edges("agent", tools_condition)
    graph.add_edge("tools", "agent")
    return graph.compile()


def _wait_for_approval(env: AgentEnv) -> BaseTool:
    """The tool the agent runs itself: wait (in simulated time) for a decision."""
    spec = tool_specs(env, (), "openai")[-1]["function"]

    def wait(approval: str) -> str:
        return run_tool(env, "wait_for_approval", {"approval": approval})

    return StructuredTool(
        name=spec["name"],
        description=spec["description"],
        args_schema=spec["parameters"],
        func=wait,
    )


__all__ = ["build_graph", "careful_agent"]
