from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import UUID as PgUUID

from credstack.audit import AuditLog
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

# Read model from EnrolmentConfirmed: who the credential is for. `name`/`email` only from
# v1 events that still carried them; the current ones come from `contact`.
recipient = Table(
    "recipient",
    metadata,
    Column("enrolment_id", PgUUID(as_uuid=True), primary_key=True),
    Column("learner_id", PgUUID(as_uuid=True), nullable=False, index=True),
    Column("name", Text),
    Column("email", Text),
    Column("did", Text),
)

# Read model from LearnerContactChanged (enrolment.contacts): the learner's name and email.
contact = Table(
    "contact",
    metadata,
    Column("learner_id", PgUUID(as_uuid=True), primary_key=True),
    Column("name", Text, nullable=False),
    Column("email", Text, nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
)

# Learners whose personal data was erased (LearnerErased): contact details older than
# this are not taken again (a replay), and nothing new is issued to them until new ones come.
erased_learner = Table(
    "erased_learner",
    metadata,
    Column("learner_id", PgUUID(as_uuid=True), primary_key=True),
    Column("erased_at", DateTime(timezone=True), nullable=False),
)

# Read model from StackPublished: each version of each stack.
stack = Table(
    "stack",
    metadata,
    Column("stack_id", PgUUID(as_uuid=True), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("snapshot", JSONB, nullable=False),
)

# What assessment decided (kind: micro-credential for a pass, attendance for attendance
# only); issued as soon as the recipient and the achievement are known.
award = Table(
    "award",
    metadata,
    Column("enrolment_id", PgUUID(as_uuid=True), primary_key=True),
    Column("kind", String(24), primary_key=True),
    Column("learner_id", PgUUID(as_uuid=True), nullable=False),
    Column("micro_credential_id", PgUUID(as_uuid=True), nullable=False),
    Column("micro_credential_version", Integer, nullable=False),
    Column("score", Numeric(7, 3)),
    Column("sessions_attended", Integer),
    Column("sessions_total", Integer),
    Column("evidence", JSONB, nullable=False),
    Column("awarded_at", DateTime(timezone=True), nullable=False),
    Column("status", String(16), nullable=False),
)

# The newest decision about each enrolment that the issuer applied (assessment's per-enrolment
# sequence): older decisions arriving later are ignored.
decision = Table(
    "decision",
    metadata,
    Column("enrolment_id", PgUUID(as_uuid=True), primary_key=True),
    Column("sequence", Integer, nullable=False),
    Column("event_type", Text, nullable=False),
)

# Every credential issued, of every kind. One live credential per enrolment and kind, and
# per learner and stack (a revoked one does not count, so a regraded pass is issued anew).
credential = Table(
    "credential",
    metadata,
    Column("id", PgUUID(as_uuid=True), primary_key=True),
    Column("kind", String(24), nullable=False),
    Column("learner_id", PgUUID(as_uuid=True), nullable=False),
    Column("enrolment_id", PgUUID(as_uuid=True)),
    Column("micro_credential_id", PgUUID(as_uuid=True)),
    Column("micro_credential_version", Integer),
    Column("stack_id", PgUUID(as_uuid=True)),
    Column("stack_version", Integer),
    Column("achievement_id", Text, nullable=False, index=True),
    Column("title", Text, nullable=False),
    Column("recipient_name", Text, nullable=False),
    Column("recipient_email", Text, nullable=False),
    Column("document", JSON, nullable=False),  # json keeps the issued key order
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("status", String(16), nullable=False),  # active | suspended | revoked
    Column("status_reason", Text),
    Column("status_changed_at", DateTime(timezone=True)),
    Index(
        "uq_credential_enrolment_kind",
        "enrolment_id",
        "kind",
        unique=True,
        postgresql_where=text("enrolment_id IS NOT NULL AND status <> 'revoked'"),
    ),
    Index(
        "uq_credential_learner_stack",
        "learner_id",
        "stack_id",
        unique=True,
        postgresql_where=text("stack_id IS NOT NULL AND status <> 'revoked'"),
    ),
    Index("ix_credential_learner", "learner_id"),
)

# Bitstring Status List entries: a random index per credential, unique per list.
status_list = Table(
    "status_list",
    metadata,
    Column("number", Integer, primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

status_entry = Table(
    "status_entry",
    metadata,
    Column("list_number", Integer, ForeignKey("status_list.number"), primary_key=True),
    Column("index", Integer, primary_key=True),
    Column("credential_id", PgUUID(as_uuid=True), nullable=False, unique=True),
)

# Credentials issued through the VC-API (POST /credentials/issue): any VC 2.0 credential a
# staff member or trusted system sent, with its status entry in the same lists.
vcapi_credential = Table(
    "vcapi_credential",
    metadata,
    Column("id", PgUUID(as_uuid=True), primary_key=True),
    Column("document", JSON, nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("issued_by", Text, nullable=False),
    Column("status", String(16), nullable=False),  # active | suspended | revoked
    Column("status_changed_at", DateTime(timezone=True)),
)

# Wallet claims: one offer of a credential, taken once before it expires; the copy issued
# to the holder's DID is kept with it (it shares its credential's status entry).
claim = Table(
    "claim",
    metadata,
    Column("id", PgUUID(as_uuid=True), primary_key=True),
    Column("code_hash", String(64), nullable=False, unique=True),
    Column("credential_id", PgUUID(as_uuid=True), nullable=False, index=True),
    Column("learner_id", PgUUID(as_uuid=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("challenge", Text),
    Column("pin_hash", String(64)),
    Column("access_token_hash", String(64), unique=True),
    Column("access_expires_at", DateTime(timezone=True)),
    Column("claimed_at", DateTime(timezone=True)),
    Column("protocol", String(16)),
    Column("holder_did", Text),
    Column("copy", JSON),
)

# The signed status list credentials, re-signed in the transaction that changes a bit.
status_list_credential = Table(
    "status_list_credential",
    metadata,
    Column("list_number", Integer, ForeignKey("status_list.number"), primary_key=True),
    Column("purpose", String(16), primary_key=True),
    Column("document", JSON, nullable=False),
    Column("signed_at", DateTime(timezone=True), nullable=False),
)


outbox = Outbox(metadata, service="issuer", topic="issuer.events", source="/credstack/issuer")
inbox = Inbox(metadata)
parked = ParkedEvents(metadata)
audit = AuditLog(metadata)
