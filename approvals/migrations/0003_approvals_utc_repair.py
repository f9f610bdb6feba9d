"""approvals: repair timestamps that SQLite stored nine hours late

Until this revision the approvals service wrote calendar.now() (aware, +09:00) into its timestamp
columns, and SQLite kept the wall-clock digits without the offset; reading them back as UTC put
them nine hours in the future. Those writers are known: every timestamp of approval_requests and
approval_attachments.created_at. PostgreSQL stored the instant correctly and is left alone.

Revision ID: 0003_approvals_utc_repair
Revises: 0002_approval_attachments
Create Date: 2026-12-02 20:00:00
"""

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0003_approvals_utc_repair"
down_revision = "0002_approval_attachments"
branch_labels = None
depends_on = None

SHIFTED = {
    "approval_requests": ("created_at", "submitted_at", "decided_at", "updated_at"),
    "approval_attachments": ("created_at",),
}
JST_OFFSET = dt.timedelta(hours=9)
STORED = "%Y-%m-%d %H:%M:%S.%f"  # SQLAlchemy's SQLite DateTime storage format


def _shift(value: str | None, delta: dt.timedelta) -> str | None:
    if value is None:
        return None
    return (dt.datetime.fromisoformat(value) + delta).strftime(STORED)


def _apply(delta: dt.timedelta) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    for table, columns in SHIFTED.items():
        names = ", ".join(columns)
        # Table and column names are the constants above, never input.
        rows = bind.execute(sa.text(f"SELECT id, {names} FROM {table}")).all()  # noqa: S608
        assignments = ", ".join(f"{c} = :{c}" for c in columns)
        update = sa.text(f"UPDATE {table} SET {assignments} WHERE id = :id")  # noqa: S608
        for row in rows:
            values = {c: _shift(row[i + 1], delta) for i, c in enumerate(columns)}
            bind.execute(update, {"id": row[0], **values})


def upgrade() -> None:
    _apply(-JST_OFFSET)


def downgrade() -> None:
    _apply(JST_OFFSET)
