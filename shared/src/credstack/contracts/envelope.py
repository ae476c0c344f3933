"""The CloudEvents 1.0 structured-mode envelope and the registry of event types."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, ValidationError

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/cloudevents+json; charset=UTF-8"

_REGISTRY: dict[str, type[Event]] = {}


class Event(BaseModel):
    """The data of one event. Subclasses name their type, version and producer.

    The CloudEvents `type` is `credstack.<producer>.<Name>.v<version>`; a breaking
    change to a contract is a new version, never an edit of a published one.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    producer: ClassVar[str]
    schema_version: ClassVar[int] = 1
    contact_data: ClassVar[bool] = False
    """True for an event carrying a learner's contact details (or another thing for the
    learner alone, such as a wallet claim's secret): it travels on the producer's contact
    topic (`topics.CONTACT_TOPICS`), never on its general one."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.__name__.startswith("_"):
            _REGISTRY[cls.type_name()] = cls

    @classmethod
    def type_name(cls) -> str:
        return f"credstack.{cls.producer}.{cls.__name__}.v{cls.schema_version}"

    def key(self) -> str:
        """The aggregate id: Kafka message key and CloudEvents `subject`."""
        raise NotImplementedError


def event_types() -> dict[str, type[Event]]:
    return dict(_REGISTRY)


def to_cloudevent(
    event: Event, *, event_id: UUID, time: datetime, source: str, traceparent: str | None
) -> dict[str, Any]:
    envelope: dict[str, Any] = {
        "specversion": SPEC_VERSION,
        "id": str(event_id),
        "source": source,
        "type": event.type_name(),
        "subject": event.key(),
        "time": time.isoformat().replace("+00:00", "Z"),
        "datacontenttype": "application/json",
        "data": event.model_dump(mode="json"),
    }
    if traceparent:
        envelope["traceparent"] = traceparent
    return envelope


@dataclass(frozen=True)
class Received:
    """An event as a consumer sees it: the envelope's attributes and the typed data."""

    id: UUID
    type: str
    source: str
    subject: str
    time: datetime
    traceparent: str | None
    event: Event


class MalformedEvent(ValueError):
    """A message that claims a known type but whose data breaks the contract."""


def parse(raw: bytes | str | dict[str, Any]) -> Received | None:
    """The typed event in a structured CloudEvent, or None for a type we do not consume.

    Raises MalformedEvent when the message is not a CloudEvent or its data does not
    satisfy the contract of a known type: such a message goes to the dead-letter topic.
    """
    try:
        envelope = raw if isinstance(raw, dict) else json.loads(raw)
        model = _REGISTRY.get(envelope["type"])
        if model is None:
            return None
        return Received(
            id=UUID(envelope["id"]),
            type=envelope["type"],
            source=envelope["source"],
            subject=envelope.get("subject", ""),
            time=datetime.fromisoformat(envelope["time"].replace("Z", "+00:00")),
            traceparent=envelope.get("traceparent"),
            event=model.model_validate(envelope.get("data") or {}),
        )
    except (ValueError, KeyError, TypeError, ValidationError) as error:
        raise MalformedEvent(str(error)) from error
