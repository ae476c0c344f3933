"""Managing LMS integrations: registered clients, roster links, quarantined grades."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from assessment import repository
from assessment.domain import GradeStatus
from assessment.formats import Learner
from assessment.formats.roster import RosterRow
from assessment.registry import (
    ClientKind,
    LmsClient,
    RegistrationError,
    chosen_secret,
    hash_secret,
)
from assessment.tables import enrolment, grade, lms_client, roster_link
from assessment.usecases import Conflict, NotFound, NotServed, Unprocessable
from assessment.usecases.activities import classify
from assessment.usecases.intake import resolve
from assessment.usecases.results import settle_all


async def _secret_unused(conn: AsyncConnection, secret: str) -> None:
    if await repository.client_by_secret(conn, secret) is not None:
        raise Conflict("That secret is already in use; choose another (or let us generate one).")


async def register(
    conn: AsyncConnection,
    client: LmsClient,
    *,
    secret: str | None,
    moodle_tokens: frozenset[str] = frozenset(),
    by: str,
    now: datetime,
) -> str | None:
    """Register an LMS integration; returns its secret (to show once) if it has one.

    A Moodle client needs a web service token in the configuration (`moodle_tokens`: the
    client ids that have one), or none of its grades could ever be fetched."""
    client.check()
    if client.kind is ClientKind.MOODLE and client.id not in moodle_tokens:
        raise RegistrationError(
            f"Moodle client {client.id} has no web service token to fetch grades with: "
            "configure ASSESSMENT_MOODLE_WS_TOKENS first."
        )
    chosen = chosen_secret(client.kind, secret)
    if await repository.client(conn, client.id) is not None:
        raise Conflict(f"An LMS client {client.id} is already registered.")
    if client.lti_issuer is not None:
        taken = await conn.scalar(
            select(lms_client.c.id).where(
                lms_client.c.lti_issuer == client.lti_issuer,
                lms_client.c.lti_deployment_id == client.lti_deployment_id,
            )
        )
        if taken is not None:
            raise Conflict(f"That LTI deployment is already registered as client {taken}.")
    if chosen is not None:
        await _secret_unused(conn, chosen)
    await conn.execute(
        lms_client.insert().values(
            id=client.id,
            kind=client.kind.value,
            name=client.name,
            secret_hash=hash_secret(chosen) if chosen else None,
            lti_issuer=client.lti_issuer,
            lti_deployment_id=client.lti_deployment_id,
            moodle_url=client.moodle_url,
            learner_ids=client.learner_ids.value,
            offering_ids=sorted(client.offering_ids),
            active=client.active,
            created_by=by,
            created_at=now,
            updated_at=now,
        )
    )
    return chosen


async def client(conn: AsyncConnection, client_id: str) -> LmsClient:
    found = await repository.client(conn, client_id)
    if found is None:
        raise NotFound(f"No LMS client {client_id}.")
    return found


async def change(
    conn: AsyncConnection, client_id: str, changes: dict[str, Any], *, now: datetime
) -> LmsClient:
    """Change a client's name, offerings, activity, Moodle site or how it names learners."""
    current = await client(conn, client_id)
    if "offering_ids" in changes:
        changes = {**changes, "offering_ids": frozenset(changes["offering_ids"])}
    updated = replace(current, **changes)
    updated.check()
    stored = {**changes}
    if "offering_ids" in stored:
        stored["offering_ids"] = sorted(updated.offering_ids)
    if "learner_ids" in stored:
        stored["learner_ids"] = updated.learner_ids.value
    await conn.execute(
        update(lms_client).where(lms_client.c.id == client_id).values(**stored, updated_at=now)
    )
    return updated


async def rotate_secret(
    conn: AsyncConnection, client_id: str, *, secret: str | None, now: datetime
) -> str:
    """Replace a client's secret; the old one stops working at once."""
    current = await client(conn, client_id)
    chosen = chosen_secret(current.kind, secret)
    if chosen is None:
        raise Unprocessable(f"A {current.kind} client has no secret to rotate.")
    await _secret_unused(conn, chosen)
    await conn.execute(
        update(lms_client)
        .where(lms_client.c.id == client_id)
        .values(secret_hash=hash_secret(chosen), updated_at=now)
    )
    return chosen


async def link(
    conn: AsyncConnection,
    client: LmsClient,
    *,
    subject: str,
    offering_id: UUID,
    enrolment_id: UUID,
    by: str,
    now: datetime,
) -> tuple[int, bool]:
    """Link the client's identifier of a learner to an enrolment in one of its offerings.

    Returns the link's id and whether it is new. Quarantined grades of that learner from
    that client are then mapped again and decided.
    """
    if not client.serves(offering_id):
        raise NotServed(f"Client {client.id} is not registered for offering {offering_id}.")
    actual = await repository.enrolment_offering(conn, enrolment_id)
    if actual is not None and actual != offering_id:
        raise Unprocessable(f"Enrolment {enrolment_id} is in offering {actual}, not {offering_id}.")
    link_id = await conn.scalar(
        insert(roster_link)
        .values(
            client_id=client.id,
            subject=subject,
            offering_id=offering_id,
            enrolment_id=enrolment_id,
            linked_by=by,
            linked_at=now,
        )
        .on_conflict_do_nothing()
        .returning(roster_link.c.id)
    )
    if link_id is None:
        existing = (
            await conn.execute(
                select(roster_link.c.id, roster_link.c.enrolment_id).where(
                    roster_link.c.client_id == client.id,
                    roster_link.c.subject == subject,
                    roster_link.c.offering_id == offering_id,
                )
            )
        ).one()
        if existing.enrolment_id != enrolment_id:
            raise Conflict(
                f"{subject} is already linked to enrolment {existing.enrolment_id} in this "
                "offering; remove that link first."
            )
        return existing.id, False
    await _map_quarantined(conn, client, subject, now=now)
    return link_id, True


async def _map_quarantined(
    conn: AsyncConnection, client: LmsClient, subject: str, *, now: datetime
) -> None:
    waiting = (
        await conn.execute(
            select(grade.c.id, grade.c.subjects, grade.c.course_refs, grade.c.offering_id)
            .where(
                grade.c.client_id == client.id,
                grade.c.status == GradeStatus.QUARANTINED,
                grade.c.enrolment_id.is_(None),
                grade.c.subjects.contains([subject]),
            )
            .order_by(grade.c.id)
        )
    ).all()
    mapped = []
    for row in waiting:
        mapping = await resolve(
            conn,
            client,
            Learner(
                subjects=tuple(row.subjects),
                offering_id=row.offering_id,
                course_refs=tuple(row.course_refs),
            ),
        )
        if mapping.enrolment_id is not None:
            await conn.execute(
                update(grade)
                .where(grade.c.id == row.id)
                .values(
                    status=GradeStatus.KEPT,
                    enrolment_id=mapping.enrolment_id,
                    offering_id=mapping.offering_id,
                    note=None,
                )
            )
            mapped.append(mapping.enrolment_id)
            await classify(conn, [row.id])
    await settle_all(conn, mapped, now=now)


async def unlink(conn: AsyncConnection, link_id: int, *, client_id: str | None) -> None:
    """Remove a link (future grades of that learner are quarantined until relinked)."""
    query = roster_link.delete().where(roster_link.c.id == link_id)
    if client_id is not None:
        query = query.where(roster_link.c.client_id == client_id)
    if (await conn.execute(query.returning(roster_link.c.id))).first() is None:
        raise NotFound(f"No roster link {link_id}.")


async def _quarantined(conn: AsyncConnection, grade_id: int) -> Any:
    row = (
        await conn.execute(select(grade).where(grade.c.id == grade_id).with_for_update())
    ).first()
    if row is None:
        raise NotFound(f"No grade {grade_id}.")
    if row.status != GradeStatus.QUARANTINED:
        raise Conflict(f"Grade {grade_id} is not quarantined (it is {row.status}).")
    return row


async def assign(
    conn: AsyncConnection, grade_id: int, *, enrolment_id: UUID, note: str, by: str, now: datetime
) -> None:
    """Staff attach a quarantined grade to an enrolment; it then counts as any other
    (summative or formative by the client's declaration for the enrolment's offering)."""
    row = await _quarantined(conn, grade_id)
    offering_id = await repository.enrolment_offering(conn, enrolment_id)
    await conn.execute(
        update(grade)
        .where(grade.c.id == grade_id)
        .values(
            status=GradeStatus.KEPT,
            enrolment_id=enrolment_id,
            offering_id=offering_id or row.offering_id,
            announced=False,
            note=note,
            resolved_by=by,
            resolved_at=now,
        )
    )
    await classify(conn, [grade_id])
    await settle_all(conn, [enrolment_id], now=now)


async def dismiss(
    conn: AsyncConnection, grade_id: int, *, note: str, by: str, now: datetime
) -> None:
    """Staff set a quarantined grade aside: it never counts."""
    await _quarantined(conn, grade_id)
    await conn.execute(
        update(grade)
        .where(grade.c.id == grade_id)
        .values(status=GradeStatus.DISMISSED, note=note, resolved_by=by, resolved_at=now)
    )


@dataclass(frozen=True)
class RosterReport:
    linked: list[tuple[str, UUID]]
    unchanged: list[tuple[str, UUID]]
    not_linked: list[tuple[int, str, str]]


async def import_roster(
    conn: AsyncConnection,
    client: LmsClient,
    offering_id: UUID,
    rows: list[RosterRow],
    *,
    by: str,
    now: datetime,
) -> RosterReport:
    """Link each row's subject to the learner's (or the named) enrolment in the offering.

    Rows that cannot be linked are reported with the reason; the others are linked (and
    the learner's quarantined grades mapped and decided) as by `link`."""
    if not client.serves(offering_id):
        raise NotServed(f"Client {client.id} is not registered for offering {offering_id}.")
    linked: list[tuple[str, UUID]] = []
    unchanged: list[tuple[str, UUID]] = []
    not_linked: list[tuple[int, str, str]] = []
    for row in rows:
        if row.problem or row.ours is None:
            not_linked.append((row.line, row.subject, row.problem or "no id"))
            continue
        enrolment_id = await conn.scalar(
            select(enrolment.c.id).where(
                enrolment.c.offering_id == offering_id,
                (enrolment.c.learner_id == row.ours) | (enrolment.c.id == row.ours),
            )
        )
        if enrolment_id is None:
            not_linked.append((row.line, row.subject, f"{row.ours} has no enrolment here"))
            continue
        try:
            async with conn.begin_nested():
                _, created = await link(
                    conn,
                    client,
                    subject=row.subject,
                    offering_id=offering_id,
                    enrolment_id=enrolment_id,
                    by=by,
                    now=now,
                )
        except Conflict as error:
            not_linked.append((row.line, row.subject, str(error)))
            continue
        (linked if created else unchanged).append((row.subject, enrolment_id))
    return RosterReport(linked, unchanged, not_linked)


async def unlinked(
    conn: AsyncConnection, offering_id: UUID, client_id: str | None
) -> list[tuple[UUID, UUID]]:
    """Active enrolments of the offering with no roster link (for that client)."""
    links = select(roster_link.c.enrolment_id).where(roster_link.c.offering_id == offering_id)
    if client_id is not None:
        links = links.where(roster_link.c.client_id == client_id)
    rows = await conn.execute(
        select(enrolment.c.id, enrolment.c.learner_id)
        .where(
            enrolment.c.offering_id == offering_id,
            enrolment.c.status == "confirmed",
            enrolment.c.id.not_in(links),
        )
        .order_by(enrolment.c.id)
    )
    return [(row.id, row.learner_id) for row in rows]
