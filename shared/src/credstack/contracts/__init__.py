"""Event contracts: versioned Pydantic models, one module per producing service.

Each event is carried in a CloudEvents 1.0 structured JSON message (`envelope`). A
consumer calls `parse` and gets `None` for a type it does not know; fields it does
not know are ignored, so producers may add optional fields without breaking anyone.
"""

from credstack.contracts import assessment, catalogue, enrolment, issuer, notifier
from credstack.contracts.envelope import Event, Received, event_types, parse, to_cloudevent
from credstack.contracts.topics import TOPICS, topic_of, topics_of

__all__ = [
    "TOPICS",
    "Event",
    "Received",
    "assessment",
    "catalogue",
    "enrolment",
    "event_types",
    "issuer",
    "notifier",
    "parse",
    "to_cloudevent",
    "topic_of",
    "topics_of",
]
