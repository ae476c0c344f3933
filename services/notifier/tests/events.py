"""Contract events as the other services publish them, for the notifier's tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import quote
from uuid import UUID, uuid4

from credstack.auth import learner_id_for
from credstack.contracts.catalogue import (
    LearningOutcome,
    MicroCredentialPublished,
    OfferingScheduled,
)
from credstack.contracts.enrolment import (
    EnrolmentConfirmed,
    EnrolmentRequested,
    LearnerContactChanged,
)
from credstack.contracts.issuer import CredentialIssued, WalletClaimOffered

NOW = datetime(2027, 1, 10, 9, 0, tzinfo=UTC)


def micro_credential(**changes: Any) -> MicroCredentialPublished:
    values: dict[str, Any] = {
        "micro_credential_id": uuid4(),
        "version": 1,
        "code": f"MC-{uuid4().hex[:6].upper()}",
        "title": "Data Cleaning",
        "description": "Prepare messy data for analysis.",
        "learning_outcomes": [LearningOutcome(id="LO1", description="Clean a dataset")],
        "credit_points": Decimal("2.5"),
        "notional_hours": Decimal(50),
        "cpd_hours": Decimal(50),
        "published_at": NOW,
    }
    return MicroCredentialPublished(**(values | changes))


def offering_of(item: MicroCredentialPublished, **changes: Any) -> OfferingScheduled:
    values: dict[str, Any] = {
        "offering_id": uuid4(),
        "micro_credential_id": item.micro_credential_id,
        "micro_credential_version": item.version,
        "code": item.code,
        "title": item.title,
        "starts_on": date(2027, 2, 1),
        "ends_on": date(2027, 3, 1),
        "enrolment_opens_at": NOW - timedelta(days=10),
        "enrolment_closes_at": NOW + timedelta(days=10),
        "capacity": 20,
        "delivery_mode": "online",
        "fee_cents": 45000,
        "language": item.language,
    }
    return OfferingScheduled(**(values | changes))


@dataclass
class Learner:
    subject: str = field(default_factory=lambda: f"learner-{uuid4().hex[:8]}")
    name: str = "Zoë Łukasiewicz"
    email: str = field(default_factory=lambda: f"zoe-{uuid4().hex[:6]}@example.org")

    @property
    def id(self) -> UUID:
        return learner_id_for(self.subject)

    def contact(self, *, language: str | None = None, at: datetime = NOW) -> LearnerContactChanged:
        return LearnerContactChanged(
            learner_id=self.id, email=self.email, name=self.name, language=language, changed_at=at
        )

    def requested(self, offering: OfferingScheduled, enrolment_id: UUID) -> EnrolmentRequested:
        return EnrolmentRequested(
            enrolment_id=enrolment_id,
            learner_id=self.id,
            offering_id=offering.offering_id,
            micro_credential_id=offering.micro_credential_id,
            micro_credential_version=offering.micro_credential_version,
            requested_at=NOW,
        )

    def confirmed(
        self, offering: OfferingScheduled, enrolment_id: UUID, *, paid: int | None = None
    ) -> EnrolmentConfirmed:
        return EnrolmentConfirmed(
            enrolment_id=enrolment_id,
            learner_id=self.id,
            offering_id=offering.offering_id,
            micro_credential_id=offering.micro_credential_id,
            micro_credential_version=offering.micro_credential_version,
            confirmed_at=NOW,
            amount_paid_cents=paid,
            currency="AUD" if paid else None,
        )

    def issued(
        self, item: MicroCredentialPublished, enrolment_id: UUID, **changes: Any
    ) -> CredentialIssued:
        credential_id = uuid4()
        values: dict[str, Any] = {
            "credential_id": credential_id,
            "learner_id": self.id,
            "enrolment_id": enrolment_id,
            "micro_credential_id": item.micro_credential_id,
            "micro_credential_version": item.version,
            "url": f"http://localhost:8004/credentials/{credential_id}",
            "issued_at": NOW,
        }
        return CredentialIssued(**(values | changes))

    def claim_offered(self, issued: CredentialIssued, code: str) -> WalletClaimOffered:
        """The issuer's offer of ``issued`` to the learner's wallet (on issuer.claims)."""
        offer = f'{{"credential_offer_uri":"x","pre-authorized_code":"{code}"}}'
        return WalletClaimOffered(
            credential_id=issued.credential_id,
            learner_id=self.id,
            claim_id=uuid4(),
            page_url=f"http://localhost:8004/verify/{issued.credential_id}?claim={code}",
            interaction_url=f"http://localhost:8004/claims/{code}?iuv=1",
            credential_offer="openid-credential-offer://?credential_offer=" + quote(offer, safe=""),
            expires_at=issued.issued_at + timedelta(days=14),
        )
