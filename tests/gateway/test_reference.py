"""``aqe tools``, and proof that our tool specs are what the official SDKs accept.

The SDK checks run over every operation of every registered service, so a new
fake is covered the moment it registers. Each check has a negative control: a
broken spec it must reject, so none of them can pass by accepting anything.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import anyio
import jsonschema
import pytest
from anthropic.types import ToolParam
from mcp import Client
from mcp import types as mcp_types
from mcp.server import Server
from mcp.shared.tool_name_validation import validate_tool_name
from openai.types.chat import ChatCompletionToolParam
from openai.types.shared_params import FunctionDefinition
from pydantic import TypeAdapter, ValidationError

from fakes import registered_services, registry
from fakes._schema import by_id, enum, integer, nullable, obj, string
from fakes.base import CallContext, FakeService, Operation, Reply, operation
from harness.cli import main
from harness.gateway.reference import render_markdown
from harness.gateway.tools import tool_spec
from harness.run import prepare_run
from tests.conftest import small_scenario

#: Every registered operation, sorted by tool name (independently of the module).
OPERATIONS: list[Operation] = sorted(
    (op for service in registered_services() for op in service.operations),
    key=lambda op: op.name,
)
#: The tool-name rule of both the OpenAI and the Anthropic API reference.
TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")

_OPENAI_TOOL = TypeAdapter(ChatCompletionToolParam)
_OPENAI_FUNCTION = TypeAdapter(FunctionDefinition)
_ANTHROPIC_TOOL = TypeAdapter(ToolParam)


def _declared_keys(typed_dict: Any) -> frozenset[str]:
    # The SDKs postpone annotations, so ``Required[...]`` keys are filed under
    # ``__optional_keys__``: only the union of both is reliable.
    keys: frozenset[str] = typed_dict.__required_keys__ | typed_dict.__optional_keys__
    return keys


def _unknown_keys(where: str, spec: Mapping[str, Any], typed_dict: Any) -> list[str]:
    # A TypedDict validates by ignoring keys it does not declare: a misspelled
    # key would pass validation and be silently dropped by the API.
    extra = sorted(set(spec) - _declared_keys(typed_dict))
    return [f"{where}: unknown key {key!r}" for key in extra]


def _schema_problems(where: str, schema: Any) -> list[str]:
    if not isinstance(schema, Mapping) or schema.get("type") != "object":
        return [f"{where}: the root must be a JSON Schema of type object"]
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as err:
        return [f"{where}: not a Draft 2020-12 schema: {err.message}"]
    return []


def openai_problems(spec: Mapping[str, Any]) -> list[str]:
    """Why the OpenAI SDK (or API) would not take ``spec`` as a function tool."""
    try:
        _OPENAI_TOOL.validate_python(spec, strict=True)
        _OPENAI_FUNCTION.validate_python(spec["function"], strict=True)
    except ValidationError as err:
        return [str(err)]
    function = spec["function"]
    return [
        *_unknown_keys("tool", spec, ChatCompletionToolParam),
        *_unknown_keys("function", function, FunctionDefinition),
        *_name_problems(function["name"]),
        *_schema_problems("parameters", function.get("parameters")),
    ]


def anthropic_problems(spec: Mapping[str, Any]) -> list[str]:
    """Why the Anthropic SDK (or API) would not take ``spec`` as a custom tool."""
    try:
        _ANTHROPIC_TOOL.validate_python(spec, strict=True)
    except ValidationError as err:
        return [str(err)]
    # ``input_schema`` is typed ``InputSchemaTyped | dict[str, object]``: the SDK
    # accepts any dict, the API wants an object schema.
    return [
        *_unknown_keys("tool", spec, ToolParam),
        *_name_problems(spec["name"]),
        *_schema_problems("input_schema", spec["input_schema"]),
    ]


def mcp_problems(spec: Mapping[str, Any]) -> list[str]:
    """Why the MCP SDK would not load ``spec`` as a ``Tool`` exactly as written."""
    try:
        tool = mcp_types.Tool.model_validate(spec, strict=True)
    except ValidationError as err:
        return [str(err)]
    problems = []
    # Unknown keys are ignored and snake_case names are accepted too: only a
    # round trip to the wire form shows that every key is the protocol's own.
    wire = tool.model_dump(by_alias=True, exclude_none=True, mode="json")
    if wire != spec:
        problems.append(f"not in wire form: {sorted(spec)} loads as {sorted(wire)}")
    name = validate_tool_name(tool.name)
    if not name.is_valid or name.warnings:
        problems.append(f"tool name {tool.name!r}: {'; '.join(name.warnings)}")
    return [*problems, *_schema_problems("inputSchema", tool.input_schema)]


def _name_problems(name: str) -> list[str]:
    if TOOL_NAME.fullmatch(name):
        return []
    return [f"tool name {name!r} does not match {TOOL_NAME.pattern}"]


def _ids(op: Operation) -> str:
    return op.name


def test_the_reference_covers_exactly_the_tools_an_agent_gets() -> None:
    tools = prepare_run(small_scenario(), seed=1).tools
    assert [op.name for op in OPERATIONS] == list(tools.names)
    assert len(OPERATIONS) >= 20


@pytest.mark.parametrize("op", OPERATIONS, ids=_ids)
def test_every_openai_spec_is_a_function_tool_the_sdk_accepts(op: Operation) -> None:
    assert openai_problems(tool_spec(op, "openai")) == []


@pytest.mark.parametrize("op", OPERATIONS, ids=_ids)
def test_every_anthropic_spec_is_a_tool_param_the_sdk_accepts(op: Operation) -> None:
    assert anthropic_problems(tool_spec(op, "anthropic")) == []


@pytest.mark.parametrize("op", OPERATIONS, ids=_ids)
def test_every_mcp_spec_loads_as_an_mcp_tool_in_wire_form(op: Operation) -> None:
    assert mcp_problems(tool_spec(op, "mcp")) == []


_SCHEMA = {"type": "object", "properties": {"x": {"type": "string"}}}


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        (
            {"type": "function", "function": {"parameters": _SCHEMA}},
            "function.name\n  Field required",
        ),
        (
            {"type": "function", "function": {"name": "x", "paramters": _SCHEMA}},
            "function: unknown key 'paramters'",
        ),
        (
            {"type": "function", "function": {"name": "refund now"}},
            "tool name 'refund now' does not match",
        ),
        (
            {
                "type": "function",
                "function": {"name": "x", "parameters": {"type": "obj"}},
            },
            "parameters: the root must be a JSON Schema of type object",
        ),
        (
            {
                "type": "function",
                "function": {
                    "name": "x",
                    "parameters": {"type": "object", "required": "x"},
                },
            },
            "parameters: not a Draft 2020-12 schema: 'x' is not of type 'array'",
        ),
    ],
)
def test_the_openai_check_rejects_what_the_api_would(
    spec: dict[str, Any], problem: str
) -> None:
    assert problem in "\n".join(openai_problems(spec))


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ({"name": "x"}, "input_schema\n  Field required"),
        (
            {"name": "x", "input_schema": {"type": "array"}},
            "input_schema: the root must be a JSON Schema of type object",
        ),
        (
            {"name": "x", "input_schema": _SCHEMA, "inputSchema": _SCHEMA},
            "tool: unknown key 'inputSchema'",
        ),
        ({"name": "x" * 65, "input_schema": _SCHEMA}, "does not match"),
    ],
)
def test_the_anthropic_check_rejects_what_the_api_would(
    spec: dict[str, Any], problem: str
) -> None:
    assert problem in "\n".join(anthropic_problems(spec))


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ({"name": "x", "inputschema": _SCHEMA}, "inputSchema\n  Field required"),
        (
            {"name": "x", "input_schema": _SCHEMA},
            "not in wire form: ['input_schema', 'name'] loads as "
            "['inputSchema', 'name']",
        ),
        ({"name": "x", "inputSchema": {"type": "array"}}, "type object"),
        (
            {"name": "send mail", "inputSchema": _SCHEMA},
            "tool name 'send mail': Tool name contains spaces",
        ),
    ],
)
def test_the_mcp_check_rejects_what_the_sdk_would(
    spec: dict[str, Any], problem: str
) -> None:
    assert problem in "\n".join(mcp_problems(spec))


def test_every_mcp_tool_lists_back_through_an_in_memory_client_session() -> None:
    specs = [tool_spec(op, "mcp") for op in OPERATIONS]
    tools = [mcp_types.Tool.model_validate_json(json.dumps(spec)) for spec in specs]

    async def list_tools(
        ctx: Any, params: mcp_types.PaginatedRequestParams | None
    ) -> mcp_types.ListToolsResult:
        return mcp_types.ListToolsResult(tools=tools)

    server: Server[Any] = Server("aqe", on_list_tools=list_tools)

    async def listed() -> mcp_types.ListToolsResult:
        async with Client(server, raise_exceptions=True) as client:
            return await client.list_tools()

    result = anyio.run(listed)
    assert result.next_cursor is None
    wire = [
        tool.model_dump(by_alias=True, exclude_none=True, mode="json")
        for tool in result.tools
    ]
    assert wire == specs


# -- the command ----------------------------------------------------------------

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def aqe(capsys: pytest.CaptureFixture[str]) -> Run:
    def run(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def test_aqe_tools_prints_markdown_naming_every_tool_the_same_twice(aqe: Run) -> None:
    code, first, err = aqe("tools")
    assert (code, err) == (0, "")
    assert first.startswith("# Tool reference\n")
    for op in OPERATIONS:
        assert f"\n### {op.name}\n\n`{op.method} https://{op.service}.sim" in first
    for service in registered_services():
        assert f"\n## {service.name}\n" in first
    assert aqe("tools", "--format", "markdown")[1].encode() == first.encode()


@pytest.mark.parametrize("fmt", ["openai", "responses", "anthropic", "mcp"])
def test_aqe_tools_prints_one_json_array_of_every_spec_by_name(
    aqe: Run, fmt: str
) -> None:
    code, out, err = aqe("tools", "--format", fmt)
    assert (code, err) == (0, "")
    assert out.startswith("[\n  {\n")
    assert json.loads(out) == [tool_spec(op, fmt) for op in OPERATIONS]
    assert aqe("tools", "--format", fmt)[1] == out


def test_aqe_tools_prints_only_the_services_asked_for(aqe: Run) -> None:
    code, out, _ = aqe("tools", "--format", "mcp", "--service", "ops", "tickets")
    wanted = {"ops", "tickets"}
    assert code == 0
    assert [tool["name"] for tool in json.loads(out)] == [
        op.name for op in OPERATIONS if op.service in wanted
    ]
    repeated = aqe(
        "tools", "--format", "mcp", "--service", "ops", "--service", "tickets"
    )
    assert repeated[1] == out


@pytest.fixture
def three_services(monkeypatch: pytest.MonkeyPatch) -> None:
    known = {name: registry._REGISTRY[name] for name in ("ops", "payments", "tickets")}
    monkeypatch.setattr(registry, "_REGISTRY", known)


@pytest.mark.usefixtures("three_services")
def test_an_unknown_service_is_an_error_that_suggests_the_closest(aqe: Run) -> None:
    assert aqe("tools", "--service", "paymnets") == (
        2,
        "",
        "aqe tools: unknown service 'paymnets'\n"
        "    fix: did you mean 'payments'? known services: ops, payments, tickets\n",
    )


@pytest.mark.usefixtures("three_services")
def test_every_unknown_service_is_named_with_its_closest_match(aqe: Run) -> None:
    assert aqe("tools", "--service", "tickts", "hr", "ops", "opps") == (
        2,
        "",
        "aqe tools: unknown services 'tickts', 'hr', 'opps'\n"
        "    fix: did you mean 'tickets' for 'tickts', 'ops' for 'opps'? "
        "known services: ops, payments, tickets\n",
    )


@pytest.mark.usefixtures("three_services")
def test_an_unknown_service_without_a_close_match_lists_the_known(aqe: Run) -> None:
    assert aqe("tools", "--service", "hr") == (
        2,
        "",
        "aqe tools: unknown service 'hr'\n"
        "    fix: known services: ops, payments, tickets\n",
    )


def test_aqe_tools_help_shows_how_to_use_it(aqe: Run) -> None:
    with pytest.raises(SystemExit) as info:
        aqe("tools", "--help")
    assert info.value.code == 0


# -- the Markdown, exactly -------------------------------------------------------

_ADDRESS = obj(
    {
        "city": string("City."),
        "lines": {
            "type": "array",
            "items": obj(
                {"sku": string("SKU."), "qty": integer("Units.", minimum=1)},
                required=("sku",),
            ),
        },
    },
    required=("city",),
)


class Warehouse(FakeService):
    """Stock and reservations.

    Not registered: a service built only to pin the Markdown down.
    """

    name: ClassVar[str] = "warehouse"
    hosts: ClassVar[tuple[str, ...]] = ("warehouse.sim", "api.wms.example")

    @operation(
        "POST",
        "/v1/items/{sku}/reservations",
        tool="reserve_stock",
        summary="Hold units of an item for an order | <service>.<verb> *now*.",
        request={
            **obj(
                {
                    "sku": string("Stock keeping unit."),
                    "quantity": integer("Units.", minimum=1, maximum=100),
                    "priority": enum("How urgent.", "low", "high"),
                    "ship_to": {"$ref": "#/$defs/address"},
                },
                required=("sku", "quantity"),
            ),
            "$defs": {"address": _ADDRESS},
        },
        response=obj(
            {
                "id": string("Reservation id (rsv_…)."),
                "object": {"const": "reservation"},
                "state": nullable(enum("Where it stands.", "held", "released")),
                "note": {"type": "string", "description": "a | b"},
            },
            required=("id", "object"),
        ),
        status=201,
        action="warehouse.reserve",
        write=True,
        idempotent=True,
        approval_params=("sku", "quantity"),
        reversible=True,
        compensation="release_stock",
        conditional=True,
    )
    def reserve_stock(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        raise NotImplementedError

    @operation(
        "DELETE",
        "/v1/items/{sku}",
        tool="scrap_item",
        summary="Write an item off.",
        request=by_id("sku", "Stock keeping unit."),
        response={"type": "object"},
        write=True,
        reversible=False,
    )
    def scrap_item(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        raise NotImplementedError


WAREHOUSE_MARKDOWN = """\
# Tool reference

Every operation of the simulated enterprise, generated by `aqe tools`. Each one
answers over HTTP at its route and is a function tool of the same name
(`env.tools`). The parameters are the tool's arguments; over HTTP, path
parameters go in the path, `idempotency_key` is the `Idempotency-Key` header and
`if_match` the `If-Match` header. A nested field (`a.b`, `a[].b`) is required
only when its parent is given.

| Service | Hosts | Wire format | Tools |
| --- | --- | --- | --- |
| [warehouse](#warehouse) | `warehouse.sim`, `api.wms.example` | the harness's own | 2 |

## warehouse

Stock and reservations.

Hosts: `https://warehouse.sim`, `https://api.wms.example`

Wire format: the harness's own

### reserve_stock

`POST https://warehouse.sim/v1/items/{sku}/reservations`

Hold units of an item for an order | \\<service>.\\<verb> \\*now\\*.

- Writes: yes, policy action `warehouse.reserve` (an approval must match `sku`, `quantity`)
- Idempotency-Key: accepted (tool argument `idempotency_key`); a retry with the same key and arguments replays the first result
- If-Match: accepted (tool argument `if_match`); the write fails with 412 if the record changed since it was read
- Reversible: yes, undo with `release_stock`

Parameters:

| Name | Type | Required | Description |
| --- | --- | --- | --- |
| `sku` | string | yes (path) | Stock keeping unit. |
| `quantity` | integer (minimum 1, maximum 100) | yes | Units. |
| `priority` | string: one of `low`, `high` | no | How urgent. |
| `ship_to` | object | no |  |
| `ship_to.city` | string | yes | City. |
| `ship_to.lines` | array of object | no |  |
| `ship_to.lines[].sku` | string | yes | SKU. |
| `ship_to.lines[].qty` | integer (minimum 1) | no | Units. |
| `if_match` | string | no | The record's etag as last read: the write fails with 412 if the record changed since (re-read it and decide again). |
| `idempotency_key` | string | no | Idempotency key: the same key with the same arguments replays the first result instead of acting twice. Reuse it on every retry of one action. |

Response (201):

| Field | Type | Always | Description |
| --- | --- | --- | --- |
| `id` | string | yes | Reservation id (rsv_…). |
| `object` | constant `reservation` | yes |  |
| `state` | string or null: one of `held`, `released`, `null` | no | Where it stands. |
| `note` | string | no | a \\| b |

### scrap_item

`DELETE https://warehouse.sim/v1/items/{sku}`

Write an item off.

- Writes: yes, no policy action
- Idempotency-Key: not accepted
- If-Match: not accepted
- Reversible: no (irreversible)

Parameters:

| Name | Type | Required | Description |
| --- | --- | --- | --- |
| `sku` | string | yes (path) | Stock keeping unit. |

Response (200):

object, no fields.
"""


def test_the_markdown_documents_routes_properties_and_nested_fields() -> None:
    assert render_markdown([Warehouse]) == WAREHOUSE_MARKDOWN


def test_the_warehouse_specs_are_valid_for_every_sdk_too() -> None:
    # $defs/$ref and nested arrays of objects: shapes the built-ins may not use yet.
    for op in Warehouse.operations:
        assert openai_problems(tool_spec(op, "openai")) == []
        assert anthropic_problems(tool_spec(op, "anthropic")) == []
        assert mcp_problems(tool_spec(op, "mcp")) == []


def test_the_reference_says_whose_wire_format_each_service_follows() -> None:
    from fakes.registry import registered_services

    text = render_markdown(registered_services())
    assert (
        "| [payments](#payments) | `payments.sim`, `api.stripe.com` | Stripe's API"
        in text
    )
    assert (
        "| [notify](#notify) | `notify.sim`, `slack.com` | chat: Slack's Web API"
        in text
    )
    assert "| [crm](#crm) | `crm.sim` | the harness's own |" in text


def test_a_service_without_operations_says_so() -> None:
    class Empty(FakeService):
        name: ClassVar[str] = "empty"
        hosts: ClassVar[tuple[str, ...]] = ("empty.sim",)

    assert render_markdown([Empty]).endswith(
        "## empty\n\nHosts: `https://empty.sim`\n\nWire format: the harness's own"
        "\n\nNo operations.\n"
    )
