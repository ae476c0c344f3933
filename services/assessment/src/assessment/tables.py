from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Identity,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
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

metadata = metadata_for("assessment")

Score = Numeric(9, 3)

# Read model from MicroCredentialPublished: the rules a version is assessed by.
pass_rule = Table(
    "pass_rule",
    metadata,
    Column("micro_credential_id", PgUUID(as_uuid=True), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("pass_mark", Numeric(5, 2), nullable=False),
    Column("learning_outcome_ids", JSONB, nullable=False),
)

# Read model from OfferingScheduled: contact sessions (attendance) and the LMS course.
offering = Table(
    "offering",
    metadata,
    Column("id", PgUUID(as_uuid=True), primary_key=True),
    Column("micro_credential_id", PgUUID(as_uuid=True), nullable=False),
    Column("micro_credential_version", Integer, nullable=False),
    Column("code", String, nullable=False),
    Column("title", String, nullable=False),
    Column("contact_sessions", Integer),
    Column("lms_course_ref", String),
)

# Read model from the enrolment service: only confirmed enrolments get outcomes.
enrolment = Table(
    "enrolment",
    metadata,
    Column("id", PgUUID(as_uuid=True), primary_key=True),
    Column("learner_id", PgUUID(as_uuid=True), nullable=False),
    Column("offering_id", PgUUID(as_uuid=True), nullable=False),
    Column("micro_credential_id", PgUUID(as_uuid=True), nullable=False),
    Column("micro_credential_version", Integer, nullable=False),
    Column("confirmed_at", DateTime(timezone=True), nullable=False),
    # confirmed | cancelled | withdrawn: only a confirmed enrolment is decided.
    Column("status", String(16), nullable=False, server_default="confirmed"),
)

# The registered LMS integrations. Inbound secrets (Caliper API key, xAPI Basic password,
# Moodle webhook token) are kept only as SHA-256 hashes.
lms_client = Table(
    "lms_client",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("name", String, nullable=False),
    Column("secret_hash", String(64), unique=True),
    Column("lti_issuer", String),
    Column("lti_deployment_id", String),
    Column("moodle_url", String),
    # lms | identity-provider (registry.LearnerIds): how the LMS names its learners.
    Column("learner_ids", String(24), nullable=False, server_default="lms"),
    Column("offering_ids", ARRAY(PgUUID(as_uuid=True)), nullable=False),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    Column("created_by", String, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("lti_issuer", "lti_deployment_id", name="uq_lms_client_lti_deployment"),
)

# An integration's identifier of a learner (LTI subject, Caliper assignee, Moodle user id,
# xAPI account) linked to an enrolment in one offering.
roster_link = Table(
    "roster_link",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("client_id", String(128), nullable=False),
    Column("subject", String, nullable=False),
    Column("offering_id", PgUUID(as_uuid=True), nullable=False),
    Column("enrolment_id", PgUUID(as_uuid=True), nullable=False),
    Column("linked_by", String, nullable=False),
    Column("linked_at", DateTime(timezone=True), nullable=False),
    # Linked by a grade naming the identity provider's subject, not by staff or a roster.
    Column("automatic", Boolean, nullable=False, server_default=text("false")),
    UniqueConstraint("client_id", "subject", "offering_id", name="uq_roster_link_subject"),
)

# Staff's declaration, per LMS client and offering, of the LMS activity that is the
# summative assessment (at most one) and of activities evidencing learning outcomes.
assessed_activity = Table(
    "assessed_activity",
    metadata,
    Column("client_id", String(128), primary_key=True),
    Column("offering_id", PgUUID(as_uuid=True), primary_key=True),
    Column("activity", String, primary_key=True),
    Column("summative", Boolean, nullable=False),
    Column("label", String),
    Column("outcome_ids", ARRAY(String), nullable=False, server_default="{}"),
    Column("declared_by", String, nullable=False),
    Column("declared_at", DateTime(timezone=True), nullable=False),
    Index(
        "uq_assessed_activity_summative",
        "client_id",
        "offering_id",
        unique=True,
        postgresql_where=text("summative"),
    ),
)

# Every grade received, as sent (payload) and normalised. `status`: kept (counts for its
# enrolment, once confirmed), quarantined (maps to nobody, or from a client that does
# not serve the enrolment's offering; staff resolve it) or dismissed.
grade = Table(
    "grade",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("client_id", String(128), nullable=False),
    Column("source", String(16), nullable=False),
    Column("delivery_id", String),
    Column("fingerprint", String(64), nullable=False),
    Column("stream", String, nullable=False),
    Column("subjects", ARRAY(String), nullable=False, server_default="{}"),
    Column("course_refs", ARRAY(String), nullable=False, server_default="{}"),
    Column("offering_id", PgUUID(as_uuid=True)),
    Column("enrolment_id", PgUUID(as_uuid=True)),
    Column("score", Score),
    Column("outcomes", JSONB),
    Column("evidence", JSONB, nullable=False, server_default="[]"),
    Column("final", Boolean, nullable=False),
    Column("graded_at", DateTime(timezone=True), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("status", String(16), nullable=False),
    Column("note", Text),
    Column("announced", Boolean, nullable=False, server_default=text("false")),
    Column("resolved_by", String),
    Column("resolved_at", DateTime(timezone=True)),
    Column("payload", JSONB, nullable=False),
    # The LMS's activity (line item, assignable, xAPI object, Moodle grade item) and
    # whether it is the declared summative assessment: only summative grades decide.
    Column("activity", String),
    Column("summative", Boolean, nullable=False, server_default=text("true")),
    UniqueConstraint("client_id", "source", "delivery_id", name="uq_grade_delivery"),
    Index("ix_grade_enrolment", "enrolment_id", "graded_at", "id"),
    Index("ix_grade_stream", "client_id", "stream", "graded_at"),
    Index("ix_grade_quarantined", "id", postgresql_where=text("status = 'quarantined'")),
)

# What stands for each decided enrolment, and what was last released (announced).
result = Table(
    "result",
    metadata,
    Column("enrolment_id", PgUUID(as_uuid=True), primary_key=True),
    Column("outcome", String(16), nullable=False),
    Column("released_outcome", String(16)),
    Column("held", Boolean, nullable=False, server_default=text("false")),
    Column("score", Score),
    Column("outcomes", JSONB),
    Column("grade_id", BigInteger),
    Column("moderation_id", BigInteger),
    Column("decided_at", DateTime(timezone=True), nullable=False),
    Column("released_at", DateTime(timezone=True)),
    # The sequence of the last decision announced for the enrolment (its events carry it).
    Column("decision_sequence", Integer, nullable=False, server_default=text("0")),
)

# Staff moderation, the audit trail: every regrade or override, by whom, why, and what
# the result was before and after.
moderation = Table(
    "moderation",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("enrolment_id", PgUUID(as_uuid=True), nullable=False, index=True),
    Column("action", String(16), nullable=False),
    Column("score", Score),
    Column("outcomes", JSONB),
    Column("outcome", String(16)),
    Column("reason", Text, nullable=False),
    Column("moderated_by", String, nullable=False),
    Column("moderated_at", DateTime(timezone=True), nullable=False),
    Column("outcome_before", String(16)),
    Column("outcome_after", String(16)),
)

integrity_case = Table(
    "integrity_case",
    metadata,
    Column("id", PgUUID(as_uuid=True), primary_key=True),
    Column("enrolment_id", PgUUID(as_uuid=True), nullable=False, index=True),
    Column("status", String(16), nullable=False),
    Column("reason", Text, nullable=False),
    Column("opened_by", String, nullable=False),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("finding_note", Text),
    Column("decided_by", String),
    Column("decided_at", DateTime(timezone=True)),
    Index(
        "uq_integrity_case_open",
        "enrolment_id",
        unique=True,
        postgresql_where=text("status = 'open'"),
    ),
)

# One row per enrolment and contact session of an offering.
attendance = Table(
    "attendance",
    metadata,
    Column("offering_id", PgUUID(as_uuid=True), primary_key=True),
    Column("session", Integer, primary_key=True),
    Column("enrolment_id", PgUUID(as_uuid=True), primary_key=True),
    Column("attended", Boolean, nullable=False),
    Column("recorded_by", String, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Index("ix_attendance_enrolment", "enrolment_id"),
)

# Moodle user_graded notifications; the grade is fetched from Moodle's web service and
# retried with backoff while Moodle cannot be reached.
moodle_notification = Table(
    "moodle_notification",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("client_id", String(128), nullable=False),
    Column("delivery_id", String, nullable=False),
    Column("course_id", BigInteger, nullable=False),
    Column("user_id", BigInteger, nullable=False),
    Column("item_id", BigInteger),
    Column("notified_at", DateTime(timezone=True), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("payload", JSONB, nullable=False),
    Column("status", String(16), nullable=False),  # pending | fetched
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("last_error", Text),
    Column("grade_id", BigInteger),
    UniqueConstraint("client_id", "delivery_id", name="uq_moodle_notification_delivery"),
    Index(
        "ix_moodle_notification_pending",
        "next_attempt_at",
        postgresql_where=text("status = 'pending'"),
    ),
)

placement = Table(
    "placement",
    metadata,
    Column("id", PgUUID(as_uuid=True), primary_key=True),
    Column("learner_id", PgUUID(as_uuid=True), nullable=False, index=True),
    Column("language", String(35), nullable=False),
    Column("level", String(8), nullable=False),
    Column("note", Text, nullable=False, server_default=""),
    Column("assessed_by", String, nullable=False),
    Column("assessed_at", DateTime(timezone=True), nullable=False),
)

outbox = Outbox(
    metadata, service="assessment", topic="assessment.events", source="/credstack/assessment"
)
inbox = Inbox(metadata)
parked = ParkedEvents(metadata)
audit = AuditLog(metadata)
idempotency = IdempotencyKeys(metadata)
