from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Identity,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.dialects.postgresql import UUID as PgUUID

from credstack.audit import AuditLog
from credstack.db import metadata_for
from credstack.idempotency import IdempotencyKeys
from credstack.inbox import Inbox
from credstack.kafka import ParkedEvents
from credstack.outbox import Outbox

metadata = metadata_for("enrolment")

# Read model of the catalogue's offerings (OfferingScheduled, -Rescheduled, -Cancelled).
offering = Table(
    "offering",
    metadata,
    Column("id", PgUUID(as_uuid=True), primary_key=True),
    Column("micro_credential_id", PgUUID(as_uuid=True), nullable=False),
    Column("micro_credential_version", Integer, nullable=False),
    Column("code", String, nullable=False),
    Column("title", Text, nullable=False),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date),
    Column("enrolment_opens_at", DateTime(timezone=True), nullable=False),
    Column("enrolment_closes_at", DateTime(timezone=True), nullable=False),
    Column("capacity", Integer, nullable=False),
    Column("fee_cents", Integer, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("delivery_mode", String),
    Column("language", String, nullable=False),
    Column("is_language_micro_credential", Boolean, nullable=False),
    Column("language_level", String),
    Column("prerequisites", ARRAY(PgUUID(as_uuid=True)), nullable=False),
    Column("status", String(16), nullable=False),
)

# Read model of published micro-credential versions (MicroCredentialPublished).
micro_credential = Table(
    "micro_credential",
    metadata,
    Column("id", PgUUID(as_uuid=True), nullable=False),
    Column("version", Integer, nullable=False),
    Column("code", String, nullable=False),
    Column("title", Text, nullable=False),
    Column("language", String, nullable=False),
    Column("is_language_micro_credential", Boolean, nullable=False),
    Column("language_level", String),
    Column("prerequisites", ARRAY(PgUUID(as_uuid=True)), nullable=False),
    PrimaryKeyConstraint("id", "version"),
)

# Credentials learners hold, from the issuer's events (a stack's credential counts as its id).
held_credential = Table(
    "held_credential",
    metadata,
    Column("credential_id", PgUUID(as_uuid=True), primary_key=True),
    Column("learner_id", PgUUID(as_uuid=True), nullable=False, index=True),
    Column("micro_credential_id", PgUUID(as_uuid=True), nullable=False),
    Column("status", String(16), nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
)

# Latest language placement per learner and language, from assessment's events.
placement = Table(
    "placement",
    metadata,
    Column("learner_id", PgUUID(as_uuid=True), nullable=False),
    Column("language", String, nullable=False),
    Column("level", String, nullable=False),
    Column("assessed_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("learner_id", "language"),
)

learner = Table(
    "learner",
    metadata,
    Column("id", PgUUID(as_uuid=True), primary_key=True),
    Column("subject", String, nullable=False, unique=True),
    Column("email", Text, nullable=False),
    Column("name_on_credential", Text, nullable=False),
    Column("university_id", String(32)),
    Column("declaration_version", Integer),
    Column("declaration_accepted_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# The academic-integrity declaration, one row per published version of its text.
integrity_declaration = Table(
    "integrity_declaration",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("text", Text, nullable=False),
    Column("published_by", String, nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=False),
)

ACTIVE_STATUSES = (
    "'awaiting_approval', 'waitlisted', 'seat_offered', 'pending_payment', "
    "'payment_processing', 'awaiting_declaration', 'confirmed'"
)

enrolment = Table(
    "enrolment",
    metadata,
    Column("id", PgUUID(as_uuid=True), primary_key=True),
    Column("learner_id", PgUUID(as_uuid=True), nullable=False, index=True),
    Column("learner_subject", String, nullable=False),
    Column("learner_name", Text, nullable=False),
    Column("email", Text, nullable=False),
    Column("offering_id", PgUUID(as_uuid=True), nullable=False),
    Column("status", String(24), nullable=False),
    Column("fee_cents", Integer, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("payment_status", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("confirmed_at", DateTime(timezone=True)),
    Column("hold_expires_at", DateTime(timezone=True)),
    Column("offer_expires_at", DateTime(timezone=True)),
    Column("waitlisted_at", DateTime(timezone=True)),
    Column("checkout_session_id", String, index=True),
    Column("checkout_url", Text),
    Column("payment_intent_id", String, index=True),
    Column("amount_paid_cents", Integer, nullable=False),
    Column("amount_refunded_cents", Integer, nullable=False),
    Column("payment_error", Text),
    Column("payment_flag", Text),
    Column("refund_requested_at", DateTime(timezone=True)),
    Column("language_experience", Boolean),
    Column("experience_statement", Text),
    Column("eligibility_decided_by", String),
    Column("eligibility_note", Text),
    Column("ended_at", DateTime(timezone=True)),
    Column("end_reason", Text),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_enrolment_offering_status", "offering_id", "status"),
    Index(
        "uq_enrolment_active_learner_offering",
        "learner_id",
        "offering_id",
        unique=True,
        postgresql_where=text(f"status IN ({ACTIVE_STATUSES})"),
    ),
    Index(
        "ix_enrolment_waitlist",
        "offering_id",
        "waitlisted_at",
        postgresql_where=text("status = 'waitlisted'"),
    ),
    Index(
        "ix_enrolment_hold_expiry",
        "hold_expires_at",
        postgresql_where=text("status = 'pending_payment'"),
    ),
    Index(
        "ix_enrolment_offer_expiry",
        "offer_expires_at",
        postgresql_where=text("status = 'seat_offered'"),
    ),
    Index(
        "ix_enrolment_refund_due",
        "id",
        postgresql_where=text("payment_status = 'refund_due' AND refund_requested_at IS NULL"),
    ),
)

# Provider webhook events received (deduplication by the provider's event id; audit trail).
payment_event = Table(
    "payment_event",
    metadata,
    Column("id", String, primary_key=True),
    Column("type", String, nullable=False),
    Column("enrolment_id", PgUUID(as_uuid=True)),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("outcome", String),
    Column("payload", JSONB),
)

# The local payment provider (dev stack): its checkout sessions and the webhooks it owes.
local_checkout_session = Table(
    "local_checkout_session",
    metadata,
    Column("id", String, primary_key=True),
    Column("enrolment_id", PgUUID(as_uuid=True), nullable=False),
    Column("amount_cents", Integer, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("description", Text, nullable=False),
    Column("customer_email", Text, nullable=False),
    Column("metadata", JSONB, nullable=False),
    Column("success_url", Text, nullable=False),
    Column("cancel_url", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("payment_status", String(16), nullable=False),
    Column("payment_intent_id", String, nullable=False, unique=True),
    Column("amount_refunded_cents", Integer, nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

local_webhook = Table(
    "local_webhook",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("event_id", String, nullable=False, unique=True),
    Column("payload", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("delivered_at", DateTime(timezone=True)),
    Column("last_error", Text),
    Index(
        "ix_local_webhook_pending", "next_attempt_at", postgresql_where=text("delivered_at IS NULL")
    ),
)

# Learners who asked for erasure: when, by whom (the learner or staff), and what was
# erased and kept (the answer they were given). Holds their id only.
erasure = Table(
    "erasure",
    metadata,
    Column("learner_id", PgUUID(as_uuid=True), primary_key=True),
    Column("requested_by", String, nullable=False),
    Column("erased_at", DateTime(timezone=True), nullable=False),
    Column("report", JSONB, nullable=False),
)

outbox = Outbox(
    metadata, service="enrolment", topic="enrolment.events", source="/credstack/enrolment"
)
inbox = Inbox(metadata)
parked = ParkedEvents(metadata)
audit = AuditLog(metadata)
idempotency = IdempotencyKeys(metadata)
