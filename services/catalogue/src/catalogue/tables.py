from sqlalchemy import (
    Boolean,
    Column,
    Computed,
    Date,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR
from sqlalchemy.dialects.postgresql import UUID as PgUUID

from credstack.audit import AuditLog
from credstack.db import metadata_for
from credstack.idempotency import IdempotencyKeys
from credstack.inbox import Inbox
from credstack.kafka import ParkedEvents
from credstack.outbox import Outbox

metadata = metadata_for("catalogue")

# Weighted full-text document: code and title rank first, then summary, then the rest.
# `catalogue.fold` (migration catalogue_0005) lowers and strips accents: PostgreSQL's
# unaccent where the server has the extension, else a translate() of Latin letters.
SEARCH_DOCUMENT = (
    "setweight(to_tsvector('english'::regconfig,"
    " catalogue.fold(coalesce(code, '') || ' ' || coalesce(title, ''))), 'A')"
    " || setweight(to_tsvector('english'::regconfig, catalogue.fold(coalesce(summary, ''))), 'B')"
    " || setweight(to_tsvector('english'::regconfig, catalogue.fold(coalesce(description, '')"
    " || ' ' || coalesce(field_of_study, ''))), 'C')"
    " || setweight(to_tsvector('english'::regconfig, catalogue.fold(learning_outcomes::text"
    " || ' ' || alignments::text)), 'D')"
)

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
    Column("alignments", JSONB, nullable=False),
    Column("endorsements", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("category", String(32), nullable=False, server_default="professional-development"),
    Column("field_of_study", Text, nullable=False),
    Column("level", String(16), nullable=False, server_default="graduate"),
    Column("credit_points", Numeric(6, 3), nullable=False),
    Column("notional_hours", Numeric(6, 2), nullable=False),
    Column("contact_hours", Numeric(6, 2)),
    Column("cpd_hours", Numeric(6, 2), nullable=False),
    Column("delivery_modes", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("online_delivery_approval", Text),
    Column("language", Text, nullable=False),  # a BCP 47 tag, of any length
    Column("is_language_micro_credential", Boolean, nullable=False, server_default="false"),
    Column("language_level", String(32)),
    Column("assessment_description", Text, nullable=False),
    Column("assessment_word_equivalent", Integer),
    Column("pass_mark", Numeric(5, 2), nullable=False),
    Column("fee_cents", Integer, nullable=False),
    Column("eligibility", Text, nullable=False, server_default=""),
    Column("prerequisites", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("expiry_months", Integer),
    Column("credit_pathways", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("strategic_plan_alignment", Text, nullable=False, server_default=""),
    Column("convenor", Text, nullable=False, server_default=""),
    Column("teaching_staff", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("co_taught_courses", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("review_due_on", Date),
    Column("proposed_by", String, nullable=False),
    Column("approved_by", String),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("published_at", DateTime(timezone=True)),
    Column("search_vector", TSVECTOR, Computed(SEARCH_DOCUMENT, persisted=True)),
    # The title as it sorts (case and accents folded), stored: every sort ends with it and
    # the id, and computing the fold for every match made sorting by fee take 0.5 s at
    # 10,000 items. Indexed with each sort key for keyset pages (migration catalogue_0008).
    Column("folded_title", Text, Computed("catalogue.fold(title)", persisted=True)),
    UniqueConstraint("code", "version"),
    Index("ix_micro_credential_search", "search_vector", postgresql_using="gin"),
    Index("ix_micro_credential_code", text("upper(code)")),
    Index(
        "ix_micro_credential_published_title",
        "title",
        postgresql_where=text("status = 'published'"),
    ),
    Index(
        "ix_micro_credential_published_folded_title",
        "folded_title",
        "code",
        "id",
        postgresql_where=text("status = 'published'"),
    ),
    Index(
        "ix_micro_credential_published_fee",
        "fee_cents",
        "folded_title",
        "code",
        "id",
        postgresql_where=text("status = 'published'"),
    ),
    Index(
        "ix_micro_credential_published_credit_points",
        "credit_points",
        "folded_title",
        "code",
        "id",
        postgresql_where=text("status = 'published'"),
    ),
    Index(
        "uq_micro_credential_one_published",
        "id",
        unique=True,
        postgresql_where=text("status = 'published'"),
    ),
)

stack = Table(
    "stack",
    metadata,
    Column("id", PgUUID(as_uuid=True), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("code", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("title", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("kind", String(8), nullable=False),
    Column("required_count", Integer),
    Column("within_months", Integer),
    Column("learning_outcomes", JSONB, nullable=False),
    Column("field_of_study", Text, nullable=False),
    Column("language", Text, nullable=False),  # a BCP 47 tag, of any length
    Column("credit_pathways", JSONB, nullable=False),
    Column("proposed_by", String, nullable=False),
    Column("approved_by", String),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("published_at", DateTime(timezone=True)),
    UniqueConstraint("code", "version"),
)

stack_member = Table(
    "stack_member",
    metadata,
    Column("stack_id", PgUUID(as_uuid=True), primary_key=True),
    Column("stack_version", Integer, primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("micro_credential_id", PgUUID(as_uuid=True), nullable=False),
    ForeignKeyConstraint(
        ["stack_id", "stack_version"], ["catalogue.stack.id", "catalogue.stack.version"]
    ),
    Index("ix_stack_member_micro_credential", "micro_credential_id"),
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
    Column("location", Text, nullable=False, server_default=""),
    Column("time_zone", String(64), nullable=False),
    Column("fee_cents", Integer, nullable=False),
    Column("convenor", Text, nullable=False, server_default=""),
    Column("lms_course_ref", String),
    Column("contact_sessions", Integer),
    # [{starts_at, ends_at, venue, online, join_note}], in time order (domain.Session)
    Column("sessions", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("status", String(16), nullable=False),
    Column("enrolment_announced", Boolean, nullable=False, server_default="false"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    ForeignKeyConstraint(
        ["micro_credential_id", "micro_credential_version"],
        ["catalogue.micro_credential.id", "catalogue.micro_credential.version"],
    ),
    Index("ix_offering_micro_credential", "micro_credential_id", "starts_on"),
    Index(
        "ix_offering_unannounced",
        "enrolment_opens_at",
        postgresql_where=text("status = 'scheduled' AND NOT enrolment_announced"),
    ),
)

# Read model from the enrolment service's events: the confirmed enrolments holding a seat
# in each offering (seats left = capacity - their count).
enrolment_seat = Table(
    "enrolment_seat",
    metadata,
    Column("enrolment_id", PgUUID(as_uuid=True), primary_key=True),
    Column("offering_id", PgUUID(as_uuid=True), nullable=False),
    Index("ix_enrolment_seat_offering", "offering_id"),
)

outbox = Outbox(
    metadata, service="catalogue", topic="catalogue.events", source="/credstack/catalogue"
)
inbox = Inbox(metadata)
parked = ParkedEvents(metadata)
audit = AuditLog(metadata)
idempotency = IdempotencyKeys(metadata)
