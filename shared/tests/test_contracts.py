import json
from datetime import UTC, datetime
from uuid import uuid4

import pytest

from credstack.contracts import enrolment, event_types, parse, to_cloudevent
from credstack.contracts.envelope import MalformedEvent

T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def confirmed() -> enrolment.EnrolmentConfirmed:
    return enrolment.EnrolmentConfirmed(
        enrolment_id=uuid4(),
        learner_id=uuid4(),
        learner_name="Ada Lovelace",
        email="ada@example.org",
        offering_id=uuid4(),
        micro_credential_id=uuid4(),
        micro_credential_version=2,
        confirmed_at=T0,
    )


def test_an_event_travels_as_a_structured_cloudevent_and_comes_back_typed() -> None:
    event = confirmed()
    event_id = uuid4()
    message = to_cloudevent(
        event,
        event_id=event_id,
        time=T0,
        source="/credstack/enrolment",
        traceparent="00-" + "a" * 32 + "-" + "b" * 16 + "-01",
    )

    assert message["specversion"] == "1.0"
    assert message["type"] == "credstack.enrolment.EnrolmentConfirmed.v1"
    assert message["subject"] == str(event.enrolment_id)
    back = parse(json.dumps(message))
    assert back is not None
    assert back.id == event_id
    assert back.event == event
    assert back.traceparent == message["traceparent"]


def test_consumers_ignore_unknown_types_and_unknown_fields() -> None:
    message = to_cloudevent(confirmed(), event_id=uuid4(), time=T0, source="/x", traceparent=None)
    assert parse({**message, "type": "org.example.SomethingElse.v1"}) is None
    message["data"]["favourite_colour"] = "blue"
    assert parse(message) is not None


def test_a_known_type_with_broken_data_is_malformed() -> None:
    message = to_cloudevent(confirmed(), event_id=uuid4(), time=T0, source="/x", traceparent=None)
    del message["data"]["learner_id"]
    with pytest.raises(MalformedEvent):
        parse(message)
    with pytest.raises(MalformedEvent):
        parse(b"not json")


def test_every_event_type_name_is_versioned_and_unique() -> None:
    names = list(event_types())
    assert len(names) == len(set(names))
    assert all(
        name.startswith("credstack.") and name.rsplit(".", 1)[1].startswith("v") for name in names
    )
