"""The audit log: every staff action, append-only, written in the action's own transaction.

Each service declares `AuditLog(metadata)` beside its outbox and inbox, so it gets
`<schema>.audit_log`. The route (or use case) that owns an action's transaction calls
`record(conn, entry)` on that same connection after the action's write: the entry and
the action commit together or not at all, and a refused or failed action leaves no entry.

Append-only is enforced by PostgreSQL, not by politeness: the service's login role holds
only `SELECT, INSERT` on the table (its migration and `credstack.roles` revoke `UPDATE`
and `DELETE`), and a trigger refuses `UPDATE` and `DELETE` by any role, the owner included.
Entries name people by their identity provider subject and things by id; reasons are
the staff's own words, so no learner contact details are copied in.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from opentelemetry import trace
from pydantic import BaseModel, Field
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Index,
    MetaData,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection

from credstack.auth import Principal
from credstack.clock import now


class StaffAction(StrEnum):
    """What staff did, by service; `<thing>.<verb>`."""

    # catalogue
    MICRO_CREDENTIAL_PROPOSE = "micro-credential.propose"
    MICRO_CREDENTIAL_EDIT = "micro-credential.edit"
    MICRO_CREDENTIAL_SUBMIT = "micro-credential.submit"
    MICRO_CREDENTIAL_RETURN = "micro-credential.return"
    MICRO_CREDENTIAL_APPROVE = "micro-credential.approve"
    MICRO_CREDENTIAL_PUBLISH = "micro-credential.publish"
    MICRO_CREDENTIAL_REVISE = "micro-credential.revise"
    MICRO_CREDENTIAL_RETIRE = "micro-credential.retire"
    MICRO_CREDENTIAL_REVIEW = "micro-credential.review"
    STACK_PROPOSE = "stack.propose"
    STACK_SUBMIT = "stack.submit"
    STACK_APPROVE = "stack.approve"
    STACK_PUBLISH = "stack.publish"
    OFFERING_SCHEDULE = "offering.schedule"
    OFFERING_RESCHEDULE = "offering.reschedule"
    OFFERING_CANCEL = "offering.cancel"
    CATALOGUE_IMPORT = "catalogue.import"
    # enrolment
    ENROLMENT_WITHDRAW = "enrolment.withdraw"
    ENROLMENT_TRANSFER = "enrolment.transfer"
    ENROLMENT_REFUND = "enrolment.refund"
    ENROLMENT_ELIGIBILITY = "enrolment.eligibility"
    ENROLMENT_REANNOUNCE = "enrolment.re-announce"
    DECLARATION_PUBLISH = "declaration.publish"
    LEARNER_ERASE = "learner.erase"
    # assessment
    RESULT_MODERATE = "result.moderate"
    INTEGRITY_CASE_OPEN = "integrity-case.open"
    INTEGRITY_FINDING = "integrity-case.finding"
    ATTENDANCE_RECORD = "attendance.record"
    LMS_CLIENT_REGISTER = "lms-client.register"
    LMS_CLIENT_CHANGE = "lms-client.change"
    LMS_CLIENT_SECRET_REPLACE = "lms-client.secret-replace"
    LMS_ACTIVITIES_DECLARE = "lms-client.activities-declare"
    ROSTER_LINK = "roster.link"
    ROSTER_UNLINK = "roster.unlink"
    ROSTER_IMPORT = "roster.import"
    QUARANTINED_GRADE_ASSIGN = "quarantined-grade.assign"
    QUARANTINED_GRADE_DISMISS = "quarantined-grade.dismiss"
    DECISION_REANNOUNCE = "decision.re-announce"
    PLACEMENT_RECORD = "placement.record"
    # issuer
    CREDENTIAL_REVOKE = "credential.revoke"
    CREDENTIAL_SUSPEND = "credential.suspend"
    CREDENTIAL_REINSTATE = "credential.reinstate"
    SIGNING_KEY_ROTATE = "signing-key.rotate"
    # notifier
    MESSAGE_RESEND = "message.resend"
    CONTACT_ERASE = "contact.erase"
    # every service
    PARKED_EVENT_REPLAY = "parked-event.replay"


CONFIGURATION = "configuration"
"""The actor of a change made by deploying new configuration (a signing key rotation),
not through the API: who deployed it is in the deployment's own history."""


class AuditEntry(BaseModel):
    """Who did what to which thing, when and why."""

    actor: str = Field(max_length=500, description="The staff member's subject")
    actor_roles: str | None = Field(
        default=None, max_length=500, description="Their roles (the token's `roles`), if any"
    )
    action: StaffAction
    target_type: str = Field(max_length=100, description="What kind of thing it was done to")
    target_id: str = Field(max_length=500, description="Which one")
    reason: str | None = Field(default=None, description="Why, in the staff member's words")
    details: dict[str, Any] = Field(default_factory=dict, description="What else was decided")
    at: datetime
    trace_id: str | None = Field(
        default=None, description="The request's trace id, to find it in the logs"
    )

    @classmethod
    def by(
        cls,
        staff: Principal,
        action: StaffAction,
        target_type: str,
        target_id: object,
        *,
        at: datetime,
        reason: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> AuditEntry:
        """An entry for `staff`'s action, in the current request's trace."""
        roles = staff.claims.get("roles")
        return cls(
            actor=staff.subject,
            actor_roles=" ".join(map(str, roles)) if isinstance(roles, list) and roles else None,
            action=action,
            target_type=target_type,
            target_id=str(target_id),
            reason=reason or None,
            details=details or {},
            at=at,
            trace_id=current_trace_id(),
        )


def current_trace_id() -> str | None:
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None


class AuditLog:
    """A service's `audit_log` table and the one way to write to it."""

    def __init__(self, metadata: MetaData) -> None:
        self.table = Table(
            "audit_log",
            metadata,
            Column("id", BigInteger, Identity(always=True), primary_key=True),
            Column("at", DateTime(timezone=True), nullable=False),
            Column("actor", String, nullable=False),
            Column("actor_roles", String),
            Column("action", String, nullable=False),
            Column("target_type", String, nullable=False),
            Column("target_id", String, nullable=False),
            Column("reason", Text),
            Column("details", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
            Column("trace_id", String),
            Index("ix_audit_log_actor", "actor", "id"),
            Index("ix_audit_log_target", "target_type", "target_id", "id"),
            Index("ix_audit_log_action", "action", "id"),
            Index("ix_audit_log_at", "at"),
        )

    async def record(self, conn: AsyncConnection, entry: AuditEntry) -> int:
        """Append `entry` in the caller's transaction (it commits with the action); its id."""
        values = entry.model_dump(mode="json")
        values["at"] = entry.at
        result = await conn.execute(self.table.insert().values(**values).returning(self.table.c.id))
        return int(result.scalar_one())

    async def record_action(
        self,
        conn: AsyncConnection,
        staff: Principal,
        action: StaffAction,
        target_type: str,
        target_id: object,
        /,
        *,
        reason: str | None = None,
        **details: Any,
    ) -> int:
        """`record` an entry for `staff`'s action, now."""
        entry = AuditEntry.by(
            staff, action, target_type, target_id, at=now(), reason=reason, details=details
        )
        return await self.record(conn, entry)
