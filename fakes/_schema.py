"""Small builders for the JSON Schema contracts of fake operations."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

Schema = dict[str, Any]


def obj(
    properties: dict[str, Schema],
    *,
    required: tuple[str, ...] = (),
    additional: bool = False,
    description: str | None = None,
) -> Schema:
    schema: Schema = {
        "type": "object",
        "properties": properties,
        "additionalProperties": additional,
    }
    if required:
        schema["required"] = list(required)
    if description:
        schema["description"] = description
    return schema


def record(properties: dict[str, Schema]) -> Schema:
    """A response record's contract: closed, and every field always present
    (maybe null)."""
    return obj(properties, required=tuple(properties))


def string(description: str, **extra: Any) -> Schema:
    return {"type": "string", "description": description, **extra}


def integer(description: str, **extra: Any) -> Schema:
    return {"type": "integer", "description": description, **extra}


def boolean(description: str) -> Schema:
    return {"type": "boolean", "description": description}


def enum(description: str, *values: str) -> Schema:
    return {"type": "string", "enum": list(values), "description": description}


def nullable(schema: Schema) -> Schema:
    if "enum" in schema:
        schema = {**schema, "enum": [*schema["enum"], None]}
    kind = schema.get("type")
    if isinstance(kind, str):
        return {**schema, "type": [kind, "null"]}
    return {"anyOf": [schema, {"type": "null"}]}


def metadata() -> Schema:
    return {
        "type": "object",
        "additionalProperties": {"type": "string"},
        "description": "Free-form string key/value pairs.",
    }


def list_of(item: Schema) -> Schema:
    """A paginated list object in the Stripe style."""
    return obj(
        {
            "object": {"const": "list"},
            "data": {"type": "array", "items": item},
            "has_more": {"type": "boolean"},
            "url": {"type": "string"},
        },
        required=("object", "data", "has_more", "url"),
    )


def paging(**filters: Schema) -> Schema:
    """Request schema of a list operation: filters plus Stripe-style paging."""
    return obj(
        {
            **filters,
            "limit": integer(
                "How many objects to return, 1 to 100.", minimum=1, maximum=100
            ),
            "starting_after": string("Cursor: return objects after this id."),
        }
    )


def by_id(name: str, description: str) -> Schema:
    return obj({name: string(description)}, required=(name,))


def batch_of(item: Schema) -> Schema:
    """The answer of a batch operation: one result per item, in request order."""
    error = obj(
        {"code": string("Error code."), "message": string("What went wrong.")},
        required=("code", "message"),
        additional=True,
    )
    result = obj(
        {
            "index": integer("The item's position in the request, from 0."),
            "status": enum("Whether the item took effect.", "succeeded", "failed"),
            "result": item,
            "error": error,
        },
        required=("index", "status"),
    )
    return obj(
        {
            "object": {"const": "batch"},
            "results": {"type": "array", "items": result},
            "succeeded": integer("Items that took effect."),
            "failed": integer("Items that did not."),
        },
        required=("object", "results", "succeeded", "failed"),
    )


def batch_request(name: str, item: Schema, *, most: int, description: str) -> Schema:
    """The request of a batch operation: a list ``name`` of 1 to ``most`` items."""
    return obj(
        {
            name: {
                "type": "array",
                "items": item,
                "minItems": 1,
                "maxItems": most,
                "description": description,
            }
        },
        required=(name,),
    )


def scenario_fields(
    contract: Schema, names: Iterable[str], **overrides: Schema
) -> Schema:
    """The fields a scenario may give a record it creates (``world.records``).

    A closed object of ``names``, each typed as the record's ``contract`` types
    it, or by ``overrides`` where a scenario writes it otherwise (an id that
    names another record, a field the record does not keep).
    """
    properties = contract.get("properties", {})
    return obj({name: overrides.get(name) or properties[name] for name in names})


def field_names(schema: Mapping[str, Any]) -> tuple[str, ...]:
    """The field names an object schema declares, in order."""
    return tuple(schema.get("properties", {}))
