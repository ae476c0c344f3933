from datetime import UTC, datetime, timedelta

import pytest

from dashboard import tickets

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def test_a_ticket_names_its_holder_and_scopes_until_it_expires() -> None:
    token, _ = tickets.issue(
        "s3cret", subject="staff-1", scopes=frozenset({"platform:operate"}), now=T0, seconds=60
    )
    held = tickets.verify("s3cret", token, now=T0 + timedelta(seconds=59))
    assert held.subject == "staff-1" and held.scopes == {"platform:operate"}
    with pytest.raises(tickets.InvalidTicket, match="expired"):
        tickets.verify("s3cret", token, now=T0 + timedelta(seconds=60))


def test_a_ticket_signed_with_another_secret_or_edited_is_refused() -> None:
    token, _ = tickets.issue("s3cret", subject="staff-1", scopes=frozenset(), now=T0, seconds=60)
    with pytest.raises(tickets.InvalidTicket):
        tickets.verify("other", token, now=T0)
    body, _, signature = token.partition(".")
    with pytest.raises(tickets.InvalidTicket):
        tickets.verify("s3cret", body[:-2] + "xx." + signature, now=T0)
