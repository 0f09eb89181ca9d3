"""search index: documents, text read from files; FTS5 (SQLite) or pg_trgm (PostgreSQL)

Revision ID: c3a1d2e4f501
Revises: b21c0a7a1001
Create Date: 2026-12-03 16:40:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "c3a1d2e4f501"
down_revision = "b21c0a7a1001"
branch_labels = None
depends_on = None

#: the FTS5 table mirrors the folded columns of search_documents (external content), kept by
#: triggers so that every write to the documents reaches it
SQLITE_FTS = [
    "CREATE VIRTUAL TABLE search_fts USING fts5(folded_title, folded_body, "
    "content='search_documents', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER search_documents_ai AFTER INSERT ON search_documents BEGIN "
    "INSERT INTO search_fts(rowid, folded_title, folded_body) "
    "VALUES (new.id, new.folded_title, new.folded_body); END",
    "CREATE TRIGGER search_documents_ad AFTER DELETE ON search_documents BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, folded_title, folded_body) "
    "VALUES ('delete', old.id, old.folded_title, old.folded_body); END",
    "CREATE TRIGGER search_documents_au AFTER UPDATE ON search_documents BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, folded_title, folded_body) "
    "VALUES ('delete', old.id, old.folded_title, old.folded_body); "
    "INSERT INTO search_fts(rowid, folded_title, folded_body) "
    "VALUES (new.id, new.folded_title, new.folded_body); END",
]


def upgrade():
    op.create_table(
        "search_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("object_id", sa.Integer(), nullable=False),
        sa.Column("module_id", sa.Integer(), nullable=True),
        sa.Column("series_id", sa.Integer(), nullable=True),
        sa.Column("room_id", sa.Integer(), nullable=True),
        sa.Column("forum_id", sa.Integer(), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("folded_title", sa.Text(), nullable=False),
        sa.Column("folded_body", sa.Text(), nullable=False),
        sa.Column("link", sa.JSON(), nullable=False),
        sa.Column("indexed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["module_id"],
            ["modules.id"],
            name=op.f("fk_search_documents_module_id_modules"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["series_id"],
            ["webinar_series.id"],
            name=op.f("fk_search_documents_series_id_webinar_series"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["room_id"],
            ["rooms.id"],
            name=op.f("fk_search_documents_room_id_rooms"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["forum_id"],
            ["forums.id"],
            name=op.f("fk_search_documents_forum_id_forums"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_documents")),
        sa.UniqueConstraint("kind", "object_id", name=op.f("uq_search_documents_kind_object_id")),
    )
    for column in ("module_id", "series_id", "room_id", "forum_id"):
        op.create_index(
            op.f(f"ix_search_documents_{column}"), "search_documents", [column], unique=False
        )
    op.create_table(
        "search_file_texts",
        sa.Column("stored_file_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("extracted_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["stored_file_id"],
            ["stored_files.id"],
            name=op.f("fk_search_file_texts_stored_file_id_stored_files"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("stored_file_id", name=op.f("pk_search_file_texts")),
    )
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in SQLITE_FTS:
            op.execute(statement)
    elif dialect == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for column in ("folded_title", "folded_body"):
            op.execute(
                f"CREATE INDEX ix_search_documents_{column}_trgm ON search_documents "
                f"USING gin ({column} gin_trgm_ops)"
            )


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for trigger in ("ai", "ad", "au"):
            op.execute(f"DROP TRIGGER IF EXISTS search_documents_{trigger}")
        op.execute("DROP TABLE IF EXISTS search_fts")
    op.drop_table("search_file_texts")
    for column in ("module_id", "series_id", "room_id", "forum_id"):
        op.drop_index(op.f(f"ix_search_documents_{column}"), table_name="search_documents")
    op.drop_table("search_documents")
