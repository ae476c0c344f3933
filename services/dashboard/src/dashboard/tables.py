"""The dashboard's schema: the append-only event log and the read models the pages show.

`event_log.position` is the stream's id: increasing, never reused, durable across
restarts. Appends are serialised by a transaction-level advisory lock, so positions
become visible in order and a reader that has seen position p never sees a smaller one
appear later.
"""

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Identity,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import UUID as PgUUID

from credstack.audit import AuditLog
from credstack.db import metadata_for
from credstack.inbox import Inbox
from credstack.kafka import ParkedEvents
from credstack.outbox import Outbox

metadata = metadata_for("dashboard")

event_log = Table(
    "event_log",
    metadata,
    Column("position", BigInteger, Identity(always=True), primary_key=True),
    Column("event_id", PgUUID(as_uuid=True), nullable=False, unique=True),
    Column("type", String, nullable=False),
    Column("time", DateTime(timezone=True), nullable=False),
    Column("appended_at", DateTime(timezone=True), nullable=False),
    Column("micro_credential_id", PgUUID(as_uuid=True)),
    Column("offering_id", PgUUID(as_uuid=True)),
    Column("learner_id", PgUUID(as_uuid=True)),
    Column("enrolment_id", PgUUID(as_uuid=True)),
    Column("summary", Text, nullable=False),
    Column("cloudevent", JSONB, nullable=False),
    Index("ix_event_log_appended_at", "appended_at"),
    Index("ix_event_log_offering", "offering_id", "position"),
    Index("ix_event_log_learner", "learner_id", "position"),
    Index("ix_event_log_micro_credential", "micro_credential_id", "position"),
)

# One row: every position up to `pruned_through` has been removed by retention.
log_horizon = Table(
    "log_horizon",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("pruned_through", BigInteger, nullable=False),
    Column("pruned_at", DateTime(timezone=True), nullable=False),
)

offering_view = Table(
    "offering_view",
    metadata,
    Column("offering_id", PgUUID(as_uuid=True), primary_key=True),
    Column("micro_credential_id", PgUUID(as_uuid=True)),
    Column("code", String, nullable=False, server_default=""),
    Column("title", Text, nullable=False, server_default=""),
    Column("starts_on", Date),
    Column("capacity", Integer),
    Column("status", String(16), nullable=False, server_default="scheduled"),
    Column("interested", Integer, nullable=False, server_default="0"),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

enrolment_view = Table(
    "enrolment_view",
    metadata,
    Column("enrolment_id", PgUUID(as_uuid=True), primary_key=True),
    Column("offering_id", PgUUID(as_uuid=True)),
    Column("learner_id", PgUUID(as_uuid=True)),
    Column("micro_credential_id", PgUUID(as_uuid=True)),
    Column("requested_at", DateTime(timezone=True)),
    Column("confirmed_at", DateTime(timezone=True)),
    Column("payment_failed_at", DateTime(timezone=True)),
    Column("seat_offer_expires_at", DateTime(timezone=True)),
    Column("graded_at", DateTime(timezone=True)),
    Column("score", Numeric(6, 2)),
    Column("passed_at", DateTime(timezone=True)),
    Column("failed_at", DateTime(timezone=True)),
    Column("attendance_at", DateTime(timezone=True)),
    # The newest decision sequence applied (assessment's; see projections.EnrolmentChange).
    Column("decision_sequence", Integer),
    Column("credential_id", PgUUID(as_uuid=True)),
    Column("credential_issued_at", DateTime(timezone=True)),
    Column("certificate_issued_at", DateTime(timezone=True)),
    Column("credential_status", String(16)),
    Column("ended_as", String(16)),
    Column("ended_at", DateTime(timezone=True)),
    Index("ix_enrolment_view_offering", "offering_id"),
    Index("ix_enrolment_view_credential_issued_at", "credential_issued_at"),
)

declaration_view = Table(
    "declaration_view",
    metadata,
    Column("learner_id", PgUUID(as_uuid=True), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("accepted_at", DateTime(timezone=True), nullable=False),
)

# The dashboard publishes nothing; the shared service shape keeps an (empty) outbox.
outbox = Outbox(
    metadata, service="dashboard", topic="dashboard.events", source="/credstack/dashboard"
)
inbox = Inbox(metadata)
parked = ParkedEvents(metadata)
audit = AuditLog(metadata)
