"""Policy-pack checks a JSON Schema cannot express: services, resources, verbs,
actions, tools, record fields and regular expressions that must exist or compile.

Each check tolerates malformed data (the schema reports that). ``at`` is where the
pack sits in its file: ``()`` for a pack file, ``("policy",)`` inline in a scenario.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from harness.source.problems import JsonPath, Problem, choices_fix


def catalog() -> dict[str, Any]:
    """The registered fake services by name."""
    from fakes import registered_services

    return {str(service.name): service for service in registered_services()}


def pack_problems(pack: Any, at: JsonPath) -> Iterator[Problem]:
    if not isinstance(pack, dict):
        return
    services = catalog()
    permissions = pack.get("permissions")
    if isinstance(permissions, dict):
        for name, grants in permissions.items():
            yield from _permission_problems(
                services, (*at, "permissions"), name, grants
            )
    for index, rule in enumerate(_list(pack.get("approvals"))):
        if isinstance(rule, dict):
            path = (*at, "approvals", index, "action")
            yield from action_problems(services, path, rule.get("action"))
    for index, rule in enumerate(_list(pack.get("data"))):
        if isinstance(rule, dict):
            yield from _data_problems(services, (*at, "data", index), rule)
    costs = pack.get("costs")
    if isinstance(costs, dict):
        known = {"default"} | {
            key
            for service in services.values()
            for op in service.operations
            for key in (op.name, op.action)
            if key
        }
        for key in costs:
            if key not in known:
                yield Problem(
                    path=(*at, "costs"),
                    key=key,
                    message=f"unknown tool or action {key!r}",
                    fix=choices_fix(key, sorted(known), "tools and actions"),
                )


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _permission_problems(
    services: Mapping[str, Any], path: JsonPath, name: str, grants: Any
) -> Iterator[Problem]:
    service = services.get(name)
    if service is None:
        yield Problem(
            path=path,
            key=name,
            message=f"unknown service {name!r}",
            fix=choices_fix(name, services, "services"),
        )
        return
    verbs = sorted({op.verb for op in service.operations})
    resources = sorted({op.resource for op in service.operations})
    by_resource = grants if isinstance(grants, dict) else {"*": grants}
    for resource, allowed in by_resource.items():
        where = (*path, name) if resource == "*" else (*path, name, resource)
        if resource != "*" and resource not in resources:
            yield Problem(
                path=(*path, name),
                key=resource,
                message=f"{name} has no resource {resource!r}",
                fix=choices_fix(resource, resources, "resources"),
            )
            continue
        for index, verb in enumerate(_list(allowed)):
            if isinstance(verb, str) and verb not in verbs:
                yield Problem(
                    path=(*where, index),
                    message=f"{name} has no {verb!r} actions",
                    fix=f"{name}'s verbs: {', '.join(verbs)}",
                )


def _data_problems(
    services: Mapping[str, Any], path: JsonPath, rule: dict[str, Any]
) -> Iterator[Problem]:
    given = [key for key in ("detect", "pattern", "fields") if key in rule]
    if len(given) != 1:
        yield Problem(
            path=path,
            message=f"a data rule needs exactly one of detect, pattern or fields"
            f" (it has {', '.join(given) or 'none'})",
            fix="say what must not leave: detect: card_number, a pattern, or"
            " fields: [service.collection.field]",
        )
    pattern = rule.get("pattern")
    if isinstance(pattern, str):
        try:
            re.compile(pattern)
        except re.error as err:
            yield Problem(
                path=(*path, "pattern"),
                message=f"not a regular expression: {err}",
                fix="write a Python regular expression, e.g."
                " \\b\\d{3}-\\d{2}-\\d{4}\\b",
            )
    for index, name in enumerate(_list(rule.get("fields"))):
        if not isinstance(name, str) or name.count(".") != 2:
            continue
        service_name, collection, _ = name.split(".")
        service = services.get(service_name)
        if service is None:
            yield Problem(
                path=(*path, "fields", index),
                message=f"unknown service {service_name!r}",
                fix=choices_fix(service_name, services, "services"),
            )
        elif collection not in service.collections:
            yield Problem(
                path=(*path, "fields", index),
                message=f"{service_name} has no collection {collection!r}",
                fix=choices_fix(collection, service.collections, "collections"),
            )


def action_problems(
    services: Mapping[str, Any], path: JsonPath, action: Any
) -> Iterator[Problem]:
    if not isinstance(action, str):
        return
    prefix = action.split(".", 1)[0]
    if prefix not in services:
        yield Problem(
            path=path,
            message=f"unknown service {prefix!r} in action {action!r}",
            fix=choices_fix(prefix, services, "services"),
        )
        return
    actions = [op.action for op in services[prefix].operations if op.action]
    if actions and action not in actions:
        yield Problem(
            path=path,
            message=f"unknown action {action!r}",
            fix=choices_fix(action, actions, "actions"),
        )
