"""Learners' profiles and the academic-integrity declaration."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from credstack import locks
from credstack.contracts.enrolment import IntegrityDeclarationAccepted, LearnerContactChanged
from enrolment import records, repository
from enrolment.domain import EnrolmentError, Status
from enrolment.tables import integrity_declaration, learner, outbox
from enrolment.usecases import ProfileRequired
from enrolment.usecases.transitions import decided, transition


class DeclarationOutdated(EnrolmentError):
    code = "declaration-outdated"


async def save_profile(
    conn: AsyncConnection,
    *,
    learner_id: UUID,
    subject: str,
    email: str,
    name_on_credential: str,
    university_id: str | None,
    now: datetime,
) -> None:
    """Create or update a learner's profile; the email is the identity provider's verified one."""
    values = {
        "email": email,
        "name_on_credential": name_on_credential,
        "university_id": university_id,
        "updated_at": now,
    }
    await conn.execute(
        insert(learner)
        .values(id=learner_id, subject=subject, created_at=now, **values)
        .on_conflict_do_update(index_elements=["id"], set_=values)
    )
    await _announce_contact(conn, learner_id, email, name_on_credential, now)


async def _announce_contact(
    conn: AsyncConnection, learner_id: UUID, email: str, name: str, now: datetime
) -> None:
    """The learner's contact details, on the contact topic only (the issuer names the
    credential with them, the notifier writes to the address)."""
    await outbox.add(
        conn,
        LearnerContactChanged(learner_id=learner_id, email=email, name=name, changed_at=now),
        now=now,
    )


async def update_email(conn: AsyncConnection, learner_id: UUID, email: str, now: datetime) -> None:
    """The identity provider verified another email since the profile was saved."""
    name = await conn.scalar(
        update(learner)
        .where(learner.c.id == learner_id)
        .values(email=email, updated_at=now)
        .returning(learner.c.name_on_credential)
    )
    if name is not None:
        await _announce_contact(conn, learner_id, email, name, now)


async def publish_declaration(
    conn: AsyncConnection, *, text: str, published_by: str, now: datetime
) -> int:
    """A new version of the declaration's text becomes the current one."""
    await locks.lock(conn, "integrity-declaration")
    version = (await records.current_declaration_version(conn) or 0) + 1
    await conn.execute(
        integrity_declaration.insert().values(
            version=version, text=text, published_by=published_by, published_at=now
        )
    )
    return version


async def accept_declaration(
    conn: AsyncConnection, *, learner_id: UUID, version: int, now: datetime
) -> list[UUID]:
    """Record the learner's acceptance of the current declaration; confirms the enrolments
    that waited for it. Returns their ids."""
    await records.lock_learner(conn, learner_id)
    if await records.learner_profile(conn, learner_id) is None:
        raise ProfileRequired("Create your learner profile (PUT /learners/me) first.")
    current = await records.current_declaration_version(conn)
    if current is None or version != current:
        raise DeclarationOutdated(
            f"Version {version} is not the current declaration (version {current}); "
            "read and accept the current one.",
            current_version=current,
        )
    await conn.execute(
        update(learner)
        .where(learner.c.id == learner_id)
        .values(declaration_version=version, declaration_accepted_at=now, updated_at=now)
    )
    waiting = await repository.of_learner_in(conn, learner_id, Status.AWAITING_DECLARATION)
    for enrolment_id in waiting:
        await transition(
            conn, enrolment_id, lambda item: decided(item.accept_declaration(now)), now=now
        )
    await outbox.add(
        conn,
        IntegrityDeclarationAccepted(
            learner_id=learner_id,
            version=version,
            accepted_at=now,
            confirmed_enrolment_ids=list(waiting),
        ),
        now=now,
    )
    return waiting
