"""The topic registry: one topic per producing service, named `<producer>.events`."""

from __future__ import annotations

from collections.abc import Iterable

from credstack.contracts.envelope import Event

TOPICS: dict[str, str] = {
    "catalogue": "catalogue.events",
    "enrolment": "enrolment.events",
    "assessment": "assessment.events",
    "issuer": "issuer.events",
    "notifier": "notifier.events",
}
"""Producer → topic. A new producing service adds its line here."""

CONTACT_TOPICS: dict[str, str] = {"enrolment": "enrolment.contacts", "issuer": "issuer.claims"}
"""Producer → its personal-data topic: learners' contact details (email, name, language)
travel only here, read only by the services that need them (the issuer for the name on a
credential, the notifier for addresses), and the issuer's wallet claim offers (their links
hold a secret) only on `issuer.claims`, read only by the notifier; every other event
carries learner ids."""

ALL_TOPICS: tuple[str, ...] = (*TOPICS.values(), *CONTACT_TOPICS.values())


def topic_of(event_type: type[Event]) -> str:
    """The topic an event type is published on: its producer's, or its producer's contact
    topic for an event marked ``contact_data``."""
    if event_type.contact_data:
        return CONTACT_TOPICS[event_type.producer]
    return TOPICS[event_type.producer]


def topics_of(event_types: Iterable[type[Event]]) -> list[str]:
    """The topics a consumer must subscribe to for these event types, sorted."""
    return sorted({topic_of(t) for t in event_types})
