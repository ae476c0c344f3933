from sqlalchemy import (
    JSON,
    Column,
    DateTime,
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
from credstack.inbox import Inbox
from credstack.kafka import ParkedEvents
from credstack.outbox import Outbox

metadata = metadata_for("issuer")

# Read model from MicroCredentialPublished: the exact version a credential is for.
achievement = Table(
    "achievement",
    metadata,
    Column("micro_credential_id", PgUUID(as_uuid=True), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("snapshot", JSONB, nullable=False),
)

# Read model from EnrolmentConfirmed: who the credential is for.
recipient = Table(
    "recipient",
    metadata,
    Column("enrolment_id", PgUUID(as_uuid=True), primary_key=True),
    Column("learner_id", PgUUID(as_uuid=True), nullable=False),
    Column("name", Text, nullable=False),
    Column("email", Text, nullable=False),
    Column("did", Text),
)

# What assessment decided; issued as soon as the recipient and the achievement are known.
award = Table(
    "award",
    metadata,
    Column("enrolment_id", PgUUID(as_uuid=True), primary_key=True),
    Column("learner_id", PgUUID(as_uuid=True), nullable=False),
    Column("micro_credential_id", PgUUID(as_uuid=True), nullable=False),
    Column("micro_credential_version", Integer, nullable=False),
    Column("score", Numeric(7, 3), nullable=False),
    Column("evidence", JSONB, nullable=False),
    Column("awarded_at", DateTime(timezone=True), nullable=False),
    Column("status", String(16), nullable=False),
)

credential = Table(
    "credential",
    metadata,
    Column("id", PgUUID(as_uuid=True), primary_key=True),
    Column("enrolment_id", PgUUID(as_uuid=True), nullable=False),
    Column("learner_id", PgUUID(as_uuid=True), nullable=False),
    Column("micro_credential_id", PgUUID(as_uuid=True), nullable=False),
    Column("micro_credential_version", Integer, nullable=False),
    Column("kind", String(24), nullable=False),
    Column("document", JSON, nullable=False),  # json keeps the issued key order
    Column("issued_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint(
        "learner_id", "micro_credential_id", "micro_credential_version", "enrolment_id", "kind"
    ),
)

outbox = Outbox(metadata, service="issuer", topic="issuer.events", source="/credstack/issuer")
inbox = Inbox(metadata)
parked = ParkedEvents(metadata)
