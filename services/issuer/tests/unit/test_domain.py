"""Credential documents, status transitions, stacks, status lists: pure rules, no I/O."""

import base64
import gzip
import hashlib
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest

from credstack.contracts.issuer import (
    CertificateOfAttendanceIssued,
    CredentialIssued,
    CredentialRevoked,
)
from issuer.domain import (
    Action,
    Award,
    AwardState,
    Credential,
    Kind,
    Status,
    StatusChangeRefused,
    next_status,
    stale_decision,
)
from issuer.stacks import StackRule
from issuer.standards import bitstring_status_list
from issuer.standards.bitstring_status_list import Purpose
from issuer.standards.jsonld import OfflineDocumentLoader, dropped_terms
from issuer.standards.openbadges3 import (
    Attendance,
    HeldMember,
    Issuance,
    IssuerProfile,
    Pass,
    Recipient,
    StatusEntry,
    attendance_certificate,
    hashed_email,
    open_badge_credential,
    stack_credential,
)

T0 = datetime(2026, 11, 22, 10, 30, tzinfo=UTC)
SNAPSHOT = {
    "micro_credential_id": str(uuid4()),
    "version": 1,
    "code": "MC-1",
    "title": "Data Cleaning",
    "description": "D",
    "learning_outcomes": [{"id": "LO1", "description": "Clean a dataset"}],
    "pass_mark": "70",
    "credit_points": "3.125",
    "notional_hours": "65",
    "cpd_hours": "0",
    "language": "en",
    "expiry_months": None,
}
LOADER = OfflineDocumentLoader()


def issuance(recipient: Recipient | None = None) -> Issuance:
    return Issuance(
        credential_id=uuid4(),
        issuer=IssuerProfile(
            did="did:web:example.edu", name="Example U", url="https://example.edu"
        ),
        recipient=recipient or Recipient(name="Ada", email="Ada@Example.org"),
        base_url="https://credentials.example.edu",
        issued_at=T0,
        salt="s4lt",
        status=StatusEntry("https://credentials.example.edu/status-lists/1/suspension", 94567),
    )


def credential(**snapshot_changes: object) -> dict:
    return open_badge_credential(issuance(), SNAPSHOT | snapshot_changes, Pass(Decimal(80), [], T0))


def test_the_recipient_is_a_salted_hash_of_the_normalised_email() -> None:
    identity = hashed_email(" Ada@Example.org ", "s4lt")
    expected = hashlib.sha256(b"ada@example.org" + b"s4lt").hexdigest()
    assert identity["identityHash"] == f"sha256${expected}"
    assert identity["hashed"] is True and identity["salt"] == "s4lt"


def test_the_credential_names_the_exact_version_and_carries_no_email() -> None:
    document = credential()
    assert document["credentialSubject"]["achievement"]["id"].endswith("/versions/1")
    assert "ada@example.org" not in json.dumps(document).lower()
    assert "validUntil" not in document


def test_a_credential_that_expires_has_valid_until() -> None:
    assert credential(expiry_months=24)["validUntil"] == "2028-11-22T10:30:00Z"


def test_hours_are_stated_with_defined_terms_only() -> None:
    document = credential(cpd_hours="20")
    achievement = document["credentialSubject"]["achievement"]
    assert achievement["tag"] == [
        "micro-credential",
        "3.125 credit points",
        "65 notional hours",
        "20 CPD hours",
    ]
    assert "Workload: 65 notional hours of learning, 20 CPD hours." in achievement["description"]
    assert dropped_terms(document, LOADER) == []


def test_english_instruction_is_not_flagged_and_other_languages_are() -> None:
    assert credential()["name"] == "Data Cleaning"
    french = credential(language="fr-CA")
    assert french["name"] == "Data Cleaning (taught in French)"
    assert french["credentialSubject"]["achievement"]["inLanguage"] == "fr-CA"
    assert "taught in French" in french["credentialSubject"]["achievement"]["tag"]
    assert credential(language="tlh")["name"] == "Data Cleaning (taught in tlh)"


def test_the_credential_points_at_its_suspension_entry_the_one_the_ob3_schema_allows() -> None:
    assert credential()["credentialStatus"] == {
        "id": "https://credentials.example.edu/status-lists/1/suspension#94567",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "suspension",
        "statusListIndex": "94567",
        "statusListCredential": "https://credentials.example.edu/status-lists/1/suspension",
    }


def test_a_certificate_of_attendance_is_another_achievement_without_any_result() -> None:
    document = attendance_certificate(issuance(), SNAPSHOT, Attendance(4, None, T0))
    subject = document["credentialSubject"]
    assert subject["achievement"]["achievementType"] == "ext:CertificateOfAttendance"
    assert subject["narrative"] == "Attended 4 contact sessions."
    assert not {"result", "creditsEarned"} & set(subject)
    assert dropped_terms(document, LOADER) == []


def test_a_stack_credential_sums_the_credit_of_the_members_held() -> None:
    members = [
        HeldMember(uuid4(), f"https://c.example/credentials/{n}", f"M{n}", Decimal("3.125"), T0)
        for n in range(3)
    ]
    stack = {
        "stack_id": str(uuid4()),
        "version": 1,
        "code": "S",
        "title": "Series",
        "description": "d",
        "kind": "series",
        "members": [str(m.micro_credential_id) for m in members],
        "credit_points": "9.375",
    }
    document = stack_credential(issuance(), stack, members, {})
    assert document["credentialSubject"]["creditsEarned"] == 9.375
    assert [e["id"] for e in document["evidence"]] == [m.credential_url for m in members]
    assert dropped_terms(document, LOADER) == []


@pytest.mark.parametrize(
    ("current", "action", "expected"),
    [
        ("active", "suspend", "suspended"),
        ("suspended", "reinstate", "active"),
        ("active", "revoke", "revoked"),
        ("suspended", "revoke", "revoked"),
    ],
)
def test_status_transitions(current: str, action: str, expected: str) -> None:
    assert next_status(current, action) == expected


@pytest.mark.parametrize(
    ("current", "action"),
    [
        ("revoked", "reinstate"),
        ("revoked", "suspend"),
        ("revoked", "revoke"),
        ("active", "reinstate"),
        ("suspended", "suspend"),
    ],
)
def test_revocation_is_final_and_only_a_suspension_is_reinstated(current: str, action: str) -> None:
    with pytest.raises(StatusChangeRefused):
        next_status(current, action)


def held(member: object, day: int) -> HeldMember:
    return HeldMember(
        member, f"u{day}", "t", Decimal(1), datetime(2026, 1, 1, tzinfo=UTC).replace(day=day)
    )  # type: ignore[arg-type]


def test_a_stack_with_a_time_limit_needs_its_members_within_the_window() -> None:
    a, b = uuid4(), uuid4()
    rule = StackRule(uuid4(), 1, (a, b), None, within_months=1)
    assert rule.completion([held(a, 1), held(b, 28)]) is not None
    late = HeldMember(b, "late", "t", Decimal(1), datetime(2026, 3, 1, tzinfo=UTC))
    assert rule.completion([held(a, 1), late]) is None
    # an older credential for a member does not hide a newer one that fits
    again = HeldMember(a, "again", "t", Decimal(1), datetime(2026, 2, 15, tzinfo=UTC))
    assert [m.credential_url for m in rule.completion([held(a, 1), late, again]) or []] == [
        "again",
        "late",
    ]


def test_progress_counts_distinct_members_held() -> None:
    a, b, c = uuid4(), uuid4(), uuid4()
    rule = StackRule(uuid4(), 1, (a, b, c), 2, None)
    progress = rule.progress([held(a, 1), held(a, 2)])
    assert (progress["held"], progress["required"], progress["complete"]) == (1, 2, False)
    assert rule.progress([held(a, 1), held(c, 2)])["complete"] is True


def test_status_list_bits_are_most_significant_first_and_the_list_is_big_enough() -> None:
    encoded = bitstring_status_list.encode([0, 9, bitstring_status_list.LIST_SIZE - 1])
    assert encoded.startswith("u")
    assert [
        bitstring_status_list.is_set(encoded, i)
        for i in (0, 1, 9, 10, bitstring_status_list.LIST_SIZE - 1)
    ] == [
        True,
        False,
        True,
        False,
        True,
    ]
    with pytest.raises(ValueError):
        bitstring_status_list.encode([bitstring_status_list.LIST_SIZE])
    raw = gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))
    assert len(raw) * 8 == 131_072 and raw[0] == 0x80 and raw[1] == 0x40


def held_credential(kind: Kind = Kind.MICRO_CREDENTIAL, **changes: Any) -> Credential:
    values: dict[str, Any] = {
        "id": uuid4(),
        "kind": kind,
        "learner_id": uuid4(),
        "title": "Data Cleaning",
        "document": {"id": f"https://issuer.example/credentials/{uuid4()}"},
        "issued_at": T0,
        "status": Status.ACTIVE,
        "recipient_name": "Ada",
        "recipient_email": "ada@example.org",
        "achievement_id": "https://issuer.example/achievements/1/versions/1",
    }
    return Credential(**(values | changes))


def test_revoking_a_credential_returns_the_event_with_the_reason_and_time() -> None:
    held = held_credential()
    event = held.revoke("Academic misconduct", T0)
    assert isinstance(event, CredentialRevoked)
    assert (event.credential_id, event.reason, event.revoked_at) == (
        held.id,
        held.status_reason,
        T0,
    )
    assert held.status is Status.REVOKED


def test_a_revoked_member_takes_down_the_standing_stacks_that_counted_it() -> None:
    member, other = held_credential(), held_credential()
    counted = held_credential(Kind.STACK, document={"id": "s1", "evidence": [{"id": member.url}]})
    revoked = held_credential(Kind.STACK, status=Status.REVOKED, document=counted.document)
    not_counting = held_credential(
        Kind.STACK, document={"id": "s2", "evidence": [{"id": other.url}]}
    )
    held = [member, other, counted, revoked, not_counting]
    assert member.stacks_to_revoke(held) == [counted]
    assert counted.stacks_to_revoke(held) == []


def test_reinstating_touches_the_suspension_list_and_revoking_touches_both() -> None:
    assert Credential.touched_by(Action.REINSTATE, Status.SUSPENDED) == [Purpose.SUSPENSION]
    assert Credential.touched_by(Action.SUSPEND, Status.ACTIVE) == [Purpose.SUSPENSION]
    assert Credential.touched_by(Action.REVOKE, Status.ACTIVE) == [
        Purpose.REVOCATION,
        Purpose.SUSPENSION,
    ]
    assert Credential.touched_by(Action.REVOKE, Status.SUSPENDED) == [
        Purpose.REVOCATION,
        Purpose.SUSPENSION,
    ]


def test_an_award_becomes_the_event_of_its_kind() -> None:
    facts: dict[str, Any] = {
        "enrolment_id": uuid4(),
        "learner_id": uuid4(),
        "micro_credential_id": uuid4(),
        "micro_credential_version": 1,
        "awarded_at": T0,
    }
    passed = Award(kind=Kind.MICRO_CREDENTIAL, score=Decimal(80), **facts)
    attended = Award(kind=Kind.ATTENDANCE, sessions_attended=5, **facts)
    assert isinstance(passed.issue(uuid4(), "u", at=T0), CredentialIssued)
    assert isinstance(attended.issue(uuid4(), "u", at=T0), CertificateOfAttendanceIssued)
    assert passed.state is AwardState.ISSUED


def test_the_issued_event_tells_the_expiry_and_whether_a_wallet_offer_follows() -> None:
    award = Award(
        kind=Kind.MICRO_CREDENTIAL,
        score=Decimal(80),
        enrolment_id=uuid4(),
        learner_id=uuid4(),
        micro_credential_id=uuid4(),
        micro_credential_version=1,
        awarded_at=T0,
    )
    until = T0 + timedelta(days=3 * 365)
    event = award.issue(uuid4(), "u", at=T0, valid_until=until, wallet_claim_offered=True)
    assert isinstance(event, CredentialIssued)
    assert (event.valid_until, event.wallet_claim_offered) == (until, True)
    # an event from an older issuer (neither field) still reads: no expiry, no offer
    older = CredentialIssued.model_validate(
        event.model_dump(mode="json", exclude={"valid_until", "wallet_claim_offered"})
    )
    assert (older.valid_until, older.wallet_claim_offered) == (None, False)


def test_only_a_decision_older_than_the_latest_applied_is_stale() -> None:
    assert not stale_decision(None, 1)  # the first decision about the enrolment
    assert not stale_decision(1, 2)  # a newer one
    assert not stale_decision(2, 2)  # a re-announcement of the latest applies again
    assert stale_decision(2, 1)  # a pass older than its withdrawal
    assert not stale_decision(5, 0)  # unversioned, from an older producer
