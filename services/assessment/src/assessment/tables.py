from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Index,
    Integer,
    Numeric,
    String,
    Table,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import UUID as PgUUID

from credstack.db import metadata_for
from credstack.inbox import Inbox
from credstack.kafka import ParkedEvents
from credstack.outbox import Outbox

metadata = metadata_for("assessment")

# Read model from MicroCredentialPublished: the rules a version is assessed by.
pass_rule = Table(
    "pass_rule",
    metadata,
    Column("micro_credential_id", PgUUID(as_uuid=True), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("pass_mark", Numeric(5, 2), nullable=False),
    Column("learning_outcome_ids", JSONB, nullable=False),
)

# Read model from EnrolmentConfirmed: only confirmed enrolments get outcomes.
enrolment = Table(
    "enrolment",
    metadata,
    Column("id", PgUUID(as_uuid=True), primary_key=True),
    Column("learner_id", PgUUID(as_uuid=True), nullable=False),
    Column("offering_id", PgUUID(as_uuid=True), nullable=False),
    Column("micro_credential_id", PgUUID(as_uuid=True), nullable=False),
    Column("micro_credential_version", Integer, nullable=False),
    Column("confirmed_at", DateTime(timezone=True), nullable=False),
)

grade = Table(
    "grade",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("enrolment_id", PgUUID(as_uuid=True), nullable=False),
    Column("score", Numeric(7, 3), nullable=False),
    Column("outcomes", JSONB),
    Column("source", String, nullable=False),
    Column("client", String, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Index("ix_grade_enrolment", "enrolment_id", "id"),
)

result = Table(
    "result",
    metadata,
    Column("enrolment_id", PgUUID(as_uuid=True), primary_key=True),
    Column("outcome", String(16), nullable=False),
    Column("score", Numeric(7, 3), nullable=False),
    Column("grade_id", BigInteger, nullable=False),
    Column("decided_at", DateTime(timezone=True), nullable=False),
)

outbox = Outbox(
    metadata, service="assessment", topic="assessment.events", source="/credstack/assessment"
)
inbox = Inbox(metadata)
parked = ParkedEvents(metadata)
