"""The published form of the contracts: a JSON Schema per event and an AsyncAPI document.

`credstack contracts` writes them to `docs/events/`; a test fails when the code's
contracts differ from the published ones in a way that would break a consumer.
"""

from __future__ import annotations

from typing import Any

from credstack.contracts.envelope import CONTENT_TYPE, event_types
from credstack.contracts.topics import topic_of


def json_schemas() -> dict[str, dict[str, Any]]:
    """The JSON Schema of each event's `data`, by CloudEvents type."""
    schemas = {}
    for type_name, model in sorted(event_types().items()):
        schema = model.model_json_schema(mode="serialization")
        schema["$id"] = f"https://credstack.dev/events/{type_name}.schema.json"
        schema["title"] = type_name
        schemas[type_name] = schema
    return schemas


def asyncapi() -> dict[str, Any]:
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for type_name, model in sorted(event_types().items()):
        name = type_name.replace(".", "_")
        messages[name] = {
            "name": type_name,
            "title": model.__name__,
            "summary": (model.__doc__ or "").strip().split("\n")[0] or model.__name__,
            "contentType": CONTENT_TYPE,
            "headers": {
                "type": "object",
                "properties": {"traceparent": {"type": "string"}},
            },
            "payload": {
                "type": "object",
                "description": "CloudEvents 1.0 structured-mode envelope",
                "required": ["specversion", "id", "source", "type", "time", "subject", "data"],
                "properties": {
                    "specversion": {"const": "1.0"},
                    "id": {"type": "string", "format": "uuid"},
                    "source": {"type": "string"},
                    "type": {"const": type_name},
                    "subject": {"type": "string", "description": "aggregate id = Kafka key"},
                    "time": {"type": "string", "format": "date-time"},
                    "traceparent": {"type": "string"},
                    "data": {"$ref": f"{type_name}.schema.json"},
                },
            },
        }
        topic = topic_of(model)
        channel = channels.setdefault(topic.replace(".", "_"), {"address": topic, "messages": {}})
        channel["messages"][name] = {"$ref": f"#/components/messages/{name}"}
    for channel_id in channels:
        operations[f"receive_{channel_id}"] = {
            "action": "receive",
            "channel": {"$ref": f"#/channels/{channel_id}"},
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Credstack events",
            "version": "1.0.0",
            "description": "Events the Credstack services publish. Message key = aggregate id.",
        },
        "defaultContentType": CONTENT_TYPE,
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }


def breaking_changes(published: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """How `current` would break a consumer written against `published` (same type)."""
    problems = []
    old_props = published.get("properties", {})
    new_props = current.get("properties", {})
    for name in old_props:
        if name not in new_props:
            problems.append(f"field {name!r} was removed")
        elif _types(old_props[name]) != _types(new_props[name]):
            problems.append(f"field {name!r} changed type")
    for name in set(current.get("required", [])) - set(published.get("required", [])):
        if name in old_props:
            problems.append(f"field {name!r} became required")
    return problems


def _types(schema: dict[str, Any]) -> Any:
    if "anyOf" in schema:
        return sorted(str(_types(s)) for s in schema["anyOf"])
    return schema.get("type") or schema.get("$ref") or schema.get("const")
