"""The notifier's tables (schema `notifier`): contacts and consent it owns, read models of
what it writes about, and the email outbox."""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Identity,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import UUID as PgUUID

from credstack.audit import AuditLog
from credstack.db import metadata_for
from credstack.inbox import Inbox
from credstack.kafka import ParkedEvents
from credstack.outbox import Outbox

metadata = metadata_for("notifier")

# From LearnerContactChanged (enrolment.contacts): where and how to write to a learner.
contact = Table(
    "contact",
    metadata,
    Column("learner_id", PgUUID(as_uuid=True), primary_key=True),
    Column("email", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("language", String(35)),
    Column("changed_at", DateTime(timezone=True), nullable=False),
)

# The learner's own choices (the learner page): language, optional messages.
preference = Table(
    "preference",
    metadata,
    Column("learner_id", PgUUID(as_uuid=True), primary_key=True),
    Column("language", String(35)),
    Column("reminders", Boolean, nullable=False, server_default=text("true")),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Interest in a micro-credential, with double opt-in: told of an opening only once
# `confirmed_at` is set, never after `unsubscribed_at`. `token` confirms and unsubscribes.
interest = Table(
    "interest",
    metadata,
    Column("id", PgUUID(as_uuid=True), primary_key=True),
    Column("micro_credential_id", PgUUID(as_uuid=True), nullable=False),
    Column("email", Text, nullable=False),
    Column("language", String(35)),
    Column("token", String(64), nullable=False, unique=True),
    Column("registered_at", DateTime(timezone=True), nullable=False),
    Column("confirmed_at", DateTime(timezone=True)),
    Column("unsubscribed_at", DateTime(timezone=True)),
    UniqueConstraint("micro_credential_id", "email"),
)

# Read models from the catalogue: titles and languages of what messages name.
micro_credential = Table(
    "micro_credential",
    metadata,
    Column("id", PgUUID(as_uuid=True), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("code", String, nullable=False, unique=True),
    Column("title", Text, nullable=False),
    Column("language", String(35), nullable=False),
)

stack = Table(
    "stack",
    metadata,
    Column("id", PgUUID(as_uuid=True), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("title", Text, nullable=False),
    Column("members", JSONB, nullable=False),
    Column("required_count", Integer, nullable=False),
    Column("language", String(35), nullable=False),
)

offering = Table(
    "offering",
    metadata,
    Column("id", PgUUID(as_uuid=True), primary_key=True),
    Column("micro_credential_id", PgUUID(as_uuid=True), nullable=False),
    Column("title", Text, nullable=False),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date, nullable=False),
    Column("time_zone", String, nullable=False),
    Column("language", String(35), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("enrolment_opens_at", DateTime(timezone=True), nullable=False),
    Column("enrolment_closes_at", DateTime(timezone=True), nullable=False),
)

# Read model from enrolment's and assessment's events: whose enrolment, in which
# offering, what it waits for (`stage`: notifier.domain.Stage) and its result.
enrolment = Table(
    "enrolment",
    metadata,
    Column("id", PgUUID(as_uuid=True), primary_key=True),
    Column("learner_id", PgUUID(as_uuid=True), nullable=False, index=True),
    Column("offering_id", PgUUID(as_uuid=True), nullable=False, index=True),
    Column("micro_credential_id", PgUUID(as_uuid=True), nullable=False),
    Column("stage", String(24), nullable=False),
    Column("offer_expires_at", DateTime(timezone=True)),
    Column("result", String(16)),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Read model from the issuer's events: the learner's credentials and their status.
credential = Table(
    "credential",
    metadata,
    Column("id", PgUUID(as_uuid=True), primary_key=True),
    Column("learner_id", PgUUID(as_uuid=True), nullable=False, index=True),
    Column("kind", String(24), nullable=False),
    Column("micro_credential_id", PgUUID(as_uuid=True)),
    Column("stack_id", PgUUID(as_uuid=True)),
    Column("url", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    # Its validUntil (CredentialIssued.valid_until): the "expiring soon" reminder's timer.
    Column("valid_until", DateTime(timezone=True)),
    Index(
        "ix_credential_valid_until",
        "valid_until",
        postgresql_where=text("valid_until IS NOT NULL"),
    ),
)

# From WalletClaimOffered (issuer.claims): the single-use offer of a new credential to the
# learner's wallet, for its credential_issued email. The links hold the claim's secret.
wallet_claim = Table(
    "wallet_claim",
    metadata,
    Column("credential_id", PgUUID(as_uuid=True), primary_key=True),
    Column("learner_id", PgUUID(as_uuid=True), nullable=False, index=True),
    Column("claim_id", PgUUID(as_uuid=True), nullable=False),
    Column("page_url", Text, nullable=False),
    Column("interaction_url", Text, nullable=False),
    Column("credential_offer", Text, nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

# The email outbox. One row per message; its id is the Message-ID, so a resent row is the
# same email to the receiver. `dedup_key` makes a message once per cause (a redelivered or
# re-published event adds nothing). `facts` are what the template needs; the learner's
# address, name and language are looked up when it is sent (they may arrive later on their
# own topic); `to_address` is set for people who are not learners (interest).
message = Table(
    "message",
    metadata,
    Column("id", PgUUID(as_uuid=True), primary_key=True),
    # The order the notifier staged messages in: the order they are sent.
    Column("seq", BigInteger, Identity(), nullable=False, unique=True),
    Column("dedup_key", Text, nullable=False, unique=True),
    Column("kind", String(40), nullable=False),
    Column("learner_id", PgUUID(as_uuid=True), index=True),
    Column("to_address", Text),
    Column("language", String(35)),
    Column("facts", JSONB, nullable=False),
    Column("subject", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True)),
    Column("failed_at", DateTime(timezone=True)),
    Column("not_before", DateTime(timezone=True)),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", Text),
    Column("resend_of", PgUUID(as_uuid=True)),
    Index(
        "ix_message_pending",
        "seq",
        postgresql_where=text("sent_at IS NULL AND failed_at IS NULL"),
    ),
    # An enrolment's messages: a credential email waits for its result message.
    Index("ix_message_enrolment", text("(facts->>'enrolment_id')")),
)

outbox = Outbox(metadata, service="notifier", topic="notifier.events", source="/credstack/notifier")
inbox = Inbox(metadata)
parked = ParkedEvents(metadata)
audit = AuditLog(metadata)
