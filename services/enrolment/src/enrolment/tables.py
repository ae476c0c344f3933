from sqlalchemy import Column, Date, DateTime, Index, Integer, String, Table, Text, text
from sqlalchemy.dialects.postgresql import UUID as PgUUID

from credstack.db import metadata_for
from credstack.idempotency import IdempotencyKeys
from credstack.inbox import Inbox
from credstack.kafka import ParkedEvents
from credstack.outbox import Outbox

metadata = metadata_for("enrolment")

# Read model of the catalogue's offerings, built from OfferingScheduled.
offering = Table(
    "offering",
    metadata,
    Column("id", PgUUID(as_uuid=True), primary_key=True),
    Column("micro_credential_id", PgUUID(as_uuid=True), nullable=False),
    Column("micro_credential_version", Integer, nullable=False),
    Column("code", String, nullable=False),
    Column("title", Text, nullable=False),
    Column("starts_on", Date, nullable=False),
    Column("enrolment_opens_at", DateTime(timezone=True), nullable=False),
    Column("enrolment_closes_at", DateTime(timezone=True), nullable=False),
    Column("capacity", Integer, nullable=False),
    Column("fee_cents", Integer, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("status", String(16), nullable=False),
)

enrolment = Table(
    "enrolment",
    metadata,
    Column("id", PgUUID(as_uuid=True), primary_key=True),
    Column("learner_id", PgUUID(as_uuid=True), nullable=False),
    Column("learner_subject", String, nullable=False),
    Column("learner_name", Text, nullable=False),
    Column("email", Text, nullable=False),
    Column("offering_id", PgUUID(as_uuid=True), nullable=False),
    Column("status", String(24), nullable=False),
    Column("fee_cents", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("confirmed_at", DateTime(timezone=True)),
    Index("ix_enrolment_offering_status", "offering_id", "status"),
    Index(
        "uq_enrolment_active_learner_offering",
        "learner_id",
        "offering_id",
        unique=True,
        postgresql_where=text("status IN ('pending_payment', 'confirmed')"),
    ),
)

# Provider webhook events already applied (deduplication by the provider's event id).
payment_event = Table(
    "payment_event",
    metadata,
    Column("id", String, primary_key=True),
    Column("type", String, nullable=False),
    Column("enrolment_id", PgUUID(as_uuid=True)),
    Column("received_at", DateTime(timezone=True), nullable=False),
)

outbox = Outbox(
    metadata, service="enrolment", topic="enrolment.events", source="/credstack/enrolment"
)
inbox = Inbox(metadata)
parked = ParkedEvents(metadata)
idempotency = IdempotencyKeys(metadata)
