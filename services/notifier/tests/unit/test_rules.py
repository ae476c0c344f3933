"""The notifier's rules without I/O: when an expiry reminder is due, and how far a learner
is towards a stack."""

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from notifier.domain import (
    OPTIONAL,
    CredentialStatus,
    Kind,
    StackDefinition,
    expiry_reminder_due,
    expiry_window,
    held_micro_credentials,
    stack_progress,
)

AT = datetime(2027, 6, 1, 9, 0, tzinfo=UTC)


def due(
    valid_until: datetime | None,
    status: CredentialStatus = CredentialStatus.ACTIVE,
    *,
    reminders: bool = True,
    days_before: int = 30,
) -> bool:
    return expiry_reminder_due(
        valid_until, status, reminders=reminders, at=AT, days_before=days_before
    )


def test_the_reminder_is_due_from_n_days_before_expiry_until_it_expires() -> None:
    assert due(AT + timedelta(days=30))  # exactly N days before
    assert due(AT + timedelta(days=1))
    assert due(AT + timedelta(seconds=1))
    assert not due(AT + timedelta(days=30, seconds=1))  # too early
    assert not due(AT)  # expired: no "expiring soon"
    assert not due(AT - timedelta(days=1))
    assert due(AT + timedelta(days=60), days_before=90)  # the setting moves the window


def test_no_reminder_without_expiry_for_a_revoked_or_suspended_credential_or_when_off() -> None:
    soon = AT + timedelta(days=10)
    assert not due(None)
    assert not due(soon, CredentialStatus.REVOKED)
    assert not due(soon, CredentialStatus.SUSPENDED)
    assert not due(soon, reminders=False)


def test_the_window_the_timer_looks_in() -> None:
    assert expiry_window(AT, 30) == (AT, AT + timedelta(days=30))


def test_only_the_expiry_reminder_is_optional() -> None:
    assert {Kind.CREDENTIAL_EXPIRING} == OPTIONAL


def series(*members: UUID, required: int | None = None) -> StackDefinition:
    return StackDefinition(
        uuid4(), "Data for Decisions", frozenset(members), required or len(members)
    )


def test_progress_counts_the_members_held() -> None:
    a, b, c, d = uuid4(), uuid4(), uuid4(), uuid4()
    four = series(a, b, c, d)
    [progress] = stack_progress({a, b}, [four], completed=set())
    assert (progress.held, progress.required, progress.complete) == (2, 4, False)
    [done] = stack_progress({a, b, c, d}, [four], completed=set())
    assert done.complete
    two_of_three = series(a, b, c, required=2)
    assert stack_progress({a, b}, [two_of_three], completed=set())[0].complete


def test_a_completed_stack_or_one_not_begun_shows_no_progress() -> None:
    a, b = uuid4(), uuid4()
    pair = series(a, b)
    assert stack_progress({a}, [pair], completed={pair.id}) == []
    assert stack_progress({uuid4()}, [pair], completed=set()) == []


@pytest.mark.parametrize(
    ("kind", "status", "counts"),
    [
        ("micro_credential", "active", True),
        ("micro_credential", "suspended", True),
        ("micro_credential", "revoked", False),
        ("attendance", "active", False),  # attendance earns no stack
        ("stack", "active", False),
    ],
)
def test_what_counts_as_held(kind: str, status: str, counts: bool) -> None:
    item = uuid4()
    assert (held_micro_credentials([(kind, status, item)]) == {item}) is counts
