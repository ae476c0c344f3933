"""Events from the issuer: credentials issued and their status."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from credstack.contracts.envelope import Received
from credstack.contracts.issuer import (
    CertificateOfAttendanceIssued,
    CredentialIssued,
    CredentialReinstated,
    CredentialRevoked,
    CredentialSuspended,
    StackCredentialIssued,
    WalletClaimOffered,
)
from notifier.domain import CredentialStatus, Kind
from notifier.repository import credentials, email_outbox
from notifier.usecases import learners
from notifier.usecases.staging import to_learner


async def credential_issued(
    conn: AsyncConnection, event: CredentialIssued, received: Received
) -> None:
    """The credential email (with the wallet link once the issuer's offer is here), and,
    for a member of a stack not complete yet, how far the learner now is towards it."""
    await _issued(conn, event, Kind.CREDENTIAL_ISSUED, "micro_credential", received)
    for progress in await learners.stacks_of(conn, event.learner_id):
        if event.micro_credential_id not in progress.members or progress.complete:
            continue  # a complete stack gets its own credential (stack_issued)
        await to_learner(
            conn,
            Kind.STACK_PROGRESS,
            f"{progress.stack_id}:{event.learner_id}:{progress.held}",  # once per step
            event.learner_id,
            {
                "stack_id": str(progress.stack_id),
                "held": progress.held,
                "required": progress.required,
            },
            received,
        )


async def wallet_claim_offered(
    conn: AsyncConnection, event: WalletClaimOffered, received: Received
) -> None:
    """Kept for the credential email, which waits for it (the two travel on different
    topics, in no fixed order): a waiting email leaves on the sender's next pass."""
    await credentials.save_wallet_claim(
        conn,
        event.credential_id,
        learner_id=event.learner_id,
        claim_id=event.claim_id,
        page_url=event.page_url,
        interaction_url=event.interaction_url,
        credential_offer=event.credential_offer,
        expires_at=event.expires_at,
    )
    await email_outbox.wake(conn, f"{Kind.CREDENTIAL_ISSUED}:{event.credential_id}")


async def attendance_issued(
    conn: AsyncConnection, event: CertificateOfAttendanceIssued, received: Received
) -> None:
    await _issued(conn, event, Kind.ATTENDANCE_ISSUED, "attendance", received)


async def _issued(
    conn: AsyncConnection,
    event: CredentialIssued | CertificateOfAttendanceIssued,
    kind: Kind,
    credential_kind: str,
    received: Received,
) -> None:
    await credentials.save_credential(
        conn,
        event.credential_id,
        learner_id=event.learner_id,
        kind=credential_kind,
        micro_credential_id=event.micro_credential_id,
        url=event.url,
        issued_at=event.issued_at,
        valid_until=event.valid_until if isinstance(event, CredentialIssued) else None,
    )
    facts: dict[str, Any] = {
        "credential_id": str(event.credential_id),
        "enrolment_id": str(event.enrolment_id),
        "micro_credential_id": str(event.micro_credential_id),
        "url": event.url,
        "issued_at": event.issued_at.isoformat(),
    }
    if isinstance(event, CredentialIssued) and event.wallet_claim_offered:
        facts["wallet_claim"] = True  # the email waits for the offer (issuer.claims)
    await to_learner(conn, kind, str(event.credential_id), event.learner_id, facts, received)


async def stack_issued(
    conn: AsyncConnection, event: StackCredentialIssued, received: Received
) -> None:
    await credentials.save_credential(
        conn,
        event.credential_id,
        learner_id=event.learner_id,
        kind="stack",
        stack_id=event.stack_id,
        url=event.url,
        issued_at=event.issued_at,
    )
    await to_learner(
        conn,
        Kind.STACK_ISSUED,
        str(event.credential_id),
        event.learner_id,
        {
            "credential_id": str(event.credential_id),
            "stack_id": str(event.stack_id),
            "url": event.url,
            "issued_at": event.issued_at.isoformat(),
        },
        received,
    )


async def _status_changed(
    conn: AsyncConnection,
    credential_id: UUID,
    learner_id: UUID,
    status: CredentialStatus,
    kind: Kind,
    at: datetime,
    received: Received,
) -> None:
    """The message never carries the issuer's reason (it may hold internal notes): each
    template says, neutrally, what the status means."""
    found = await credentials.credential_of(conn, credential_id)
    if found is None:
        return
    await credentials.set_credential_status(conn, credential_id, status)
    facts: dict[str, Any] = {"credential_id": str(credential_id), "url": found.url}
    if found.stack_id is not None:
        facts["stack_id"] = str(found.stack_id)
    if found.micro_credential_id is not None:
        facts["micro_credential_id"] = str(found.micro_credential_id)
    await to_learner(conn, kind, f"{credential_id}:{at.isoformat()}", learner_id, facts, received)


async def credential_revoked(
    conn: AsyncConnection, event: CredentialRevoked, received: Received
) -> None:
    await _status_changed(
        conn,
        event.credential_id,
        event.learner_id,
        CredentialStatus.REVOKED,
        Kind.CREDENTIAL_REVOKED,
        event.revoked_at,
        received,
    )


async def credential_suspended(
    conn: AsyncConnection, event: CredentialSuspended, received: Received
) -> None:
    await _status_changed(
        conn,
        event.credential_id,
        event.learner_id,
        CredentialStatus.SUSPENDED,
        Kind.CREDENTIAL_SUSPENDED,
        event.suspended_at,
        received,
    )


async def credential_reinstated(
    conn: AsyncConnection, event: CredentialReinstated, received: Received
) -> None:
    await _status_changed(
        conn,
        event.credential_id,
        event.learner_id,
        CredentialStatus.ACTIVE,
        Kind.CREDENTIAL_REINSTATED,
        event.reinstated_at,
        received,
    )
