"""public modules and webinar series; modules' folded search text

Revision ID: b21c0a7a1001
Revises: f20a1c3e5b77
Create Date: 2026-12-03 16:50:00

"""

from alembic import op
import sqlalchemy as sa

from learnplatform.search import fold


# revision identifiers, used by Alembic.
revision = "b21c0a7a1001"
down_revision = "f20a1c3e5b77"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("modules", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("is_public", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("search_text", sa.Text(), server_default="", nullable=False))
        batch_op.create_index(batch_op.f("ix_modules_is_public"), ["is_public"], unique=False)
    with op.batch_alter_table("webinar_series", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("is_public", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.create_index(
            batch_op.f("ix_webinar_series_is_public"), ["is_public"], unique=False
        )

    # The modules already written get their folded text, as saving them would give it.
    modules = sa.table(
        "modules",
        sa.column("id", sa.Integer),
        sa.column("title", sa.String),
        sa.column("summary", sa.Text),
        sa.column("search_text", sa.Text),
    )
    connection = op.get_bind()
    rows = connection.execute(sa.select(modules.c.id, modules.c.title, modules.c.summary)).all()
    for module_id, title, summary in rows:
        connection.execute(
            modules.update()
            .where(modules.c.id == module_id)
            .values(search_text=fold(f"{title or ''} {summary or ''}"))
        )


def downgrade():
    with op.batch_alter_table("webinar_series", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webinar_series_is_public"))
        batch_op.drop_column("is_public")
    with op.batch_alter_table("modules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_modules_is_public"))
        batch_op.drop_column("search_text")
        batch_op.drop_column("is_public")
