"""accent- and case-insensitive search: catalogue.fold() (PostgreSQL unaccent where the
server has it) under the full-text document and the title ordering

Revision ID: catalogue_0006
Revises: catalogue_0005
Create Date: 2026-12-01 10:00:00.000000

"""
import unicodedata
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision: str = 'catalogue_0006'
down_revision: Union[str, Sequence[str], None] = 'catalogue_0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

OLD_DOCUMENT = "setweight(to_tsvector('english'::regconfig, coalesce(code, '') || ' ' || coalesce(title, '')), 'A') || setweight(to_tsvector('english'::regconfig, coalesce(summary, '')), 'B') || setweight(to_tsvector('english'::regconfig, coalesce(description, '') || ' ' || coalesce(field_of_study, '')), 'C') || setweight(to_tsvector('english'::regconfig, learning_outcomes::text || ' ' || alignments::text), 'D')"
NEW_DOCUMENT = "setweight(to_tsvector('english'::regconfig, catalogue.fold(coalesce(code, '') || ' ' || coalesce(title, ''))), 'A') || setweight(to_tsvector('english'::regconfig, catalogue.fold(coalesce(summary, ''))), 'B') || setweight(to_tsvector('english'::regconfig, catalogue.fold(coalesce(description, '') || ' ' || coalesce(field_of_study, ''))), 'C') || setweight(to_tsvector('english'::regconfig, catalogue.fold(learning_outcomes::text || ' ' || alignments::text)), 'D')"


def _latin_fallback() -> tuple[str, str]:
    """Latin letters with diacritics (U+00C0-U+024F) and the letters they carry, for
    `translate` where the server has no unaccent extension (the embedded pgserver)."""
    source, target = [], []
    for code in range(0x00C0, 0x0250):
        char = chr(code)
        base = unicodedata.normalize("NFKD", char)[0]
        if base != char and base.isascii() and base.isalpha():
            source.append(char)
            target.append(base)
    for char, base in (("Ø", "O"), ("ø", "o"), ("Ł", "L"), ("ł", "l"), ("Đ", "D"), ("đ", "d")):
        source.append(char)
        target.append(base)
    return "".join(source), "".join(target)


def _set_document(expression: str) -> None:
    op.drop_index('ix_micro_credential_search', table_name='micro_credential', schema='catalogue', postgresql_using='gin')
    op.drop_column('micro_credential', 'search_vector', schema='catalogue')
    op.add_column('micro_credential', sa.Column('search_vector', postgresql.TSVECTOR(), sa.Computed(expression, persisted=True), nullable=True), schema='catalogue')
    op.create_index('ix_micro_credential_search', 'micro_credential', ['search_vector'], unique=False, schema='catalogue', postgresql_using='gin')


def upgrade() -> None:
    bind = op.get_bind()
    available = bind.scalar(sa.text("SELECT count(*) FROM pg_available_extensions WHERE name = 'unaccent'"))
    if available:
        op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
        schema = bind.scalar(sa.text(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
            " WHERE e.extname = 'unaccent'"
        ))
        body = f"SELECT lower({schema}.unaccent('{schema}.unaccent'::regdictionary, $1))"
    else:
        source, target = _latin_fallback()
        body = f"SELECT lower(translate($1, '{source}', '{target}'))"
    op.execute(
        "CREATE OR REPLACE FUNCTION catalogue.fold(text) RETURNS text"
        f" LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ {body} $$"
    )
    _set_document(NEW_DOCUMENT)
    op.create_index('ix_micro_credential_published_folded_title', 'micro_credential', [sa.literal_column('catalogue.fold(title)')], unique=False, schema='catalogue', postgresql_where=sa.text("status = 'published'"))


def downgrade() -> None:
    op.drop_index('ix_micro_credential_published_folded_title', table_name='micro_credential', schema='catalogue')
    _set_document(OLD_DOCUMENT)
    op.execute("DROP FUNCTION catalogue.fold(text)")
