from sqlalchemy import (
    Column,
    Date,
    DateTime,
    ForeignKeyConstraint,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import UUID as PgUUID

from credstack.db import metadata_for
from credstack.idempotency import IdempotencyKeys
from credstack.inbox import Inbox
from credstack.kafka import ParkedEvents
from credstack.outbox import Outbox

metadata = metadata_for("catalogue")

micro_credential = Table(
    "micro_credential",
    metadata,
    Column("id", PgUUID(as_uuid=True), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("code", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("title", Text, nullable=False),
    Column("summary", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("learning_outcomes", JSONB, nullable=False),
    Column("assessment_description", Text, nullable=False),
    Column("pass_mark", Numeric(5, 2), nullable=False),
    Column("credit_points", Numeric(6, 3), nullable=False),
    Column("notional_hours", Numeric(6, 2), nullable=False),
    Column("cpd_hours", Numeric(6, 2), nullable=False),
    Column("field_of_study", Text, nullable=False),
    Column("language", String(16), nullable=False),
    Column("expiry_months", Integer),
    Column("fee_cents", Integer, nullable=False),
    Column("alignments", JSONB, nullable=False),
    Column("proposed_by", String, nullable=False),
    Column("approved_by", String),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("published_at", DateTime(timezone=True)),
    UniqueConstraint("code", "version"),
)

offering = Table(
    "offering",
    metadata,
    Column("id", PgUUID(as_uuid=True), primary_key=True),
    Column("micro_credential_id", PgUUID(as_uuid=True), nullable=False),
    Column("micro_credential_version", Integer, nullable=False),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date, nullable=False),
    Column("enrolment_opens_at", DateTime(timezone=True), nullable=False),
    Column("enrolment_closes_at", DateTime(timezone=True), nullable=False),
    Column("capacity", Integer, nullable=False),
    Column("delivery_mode", String(32), nullable=False),
    Column("time_zone", String(64), nullable=False),
    Column("fee_cents", Integer, nullable=False),
    Column("lms_course_ref", String),
    Column("status", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    ForeignKeyConstraint(
        ["micro_credential_id", "micro_credential_version"],
        ["micro_credential.id", "micro_credential.version"],
    ),
)

outbox = Outbox(
    metadata, service="catalogue", topic="catalogue.events", source="/credstack/catalogue"
)
inbox = Inbox(metadata)
parked = ParkedEvents(metadata)
idempotency = IdempotencyKeys(metadata)
