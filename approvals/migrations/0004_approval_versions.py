"""approvals: one kept version per submission; sent-back requests wait in the drafter's 未処理

Also ``approval_requests.consult_choice``: the 合議 departments the drafter chose where the route
lets him choose (``"choose": true`` on a consult step).

``approval_versions`` keeps what each 起案 / 再提出 said (title, body, amount, attachment list), so
approvers can see what changed after a 差戻し. Requests submitted before this revision get one
version rebuilt from their current content (the best that is known about them).

A request sent back to its drafter is now the drafter's to-do: the inbox derives a ``pending`` task
for him. Existing sent-back requests get that task row here.

Revision ID: 0004_approval_versions
Revises: 0003_approvals_utc_repair
Create Date: 2026-12-03 07:00:00
"""

import sqlalchemy as sa
from alembic import op

import workspace.models

revision = "0004_approval_versions"
down_revision = "0003_approvals_utc_repair"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "approval_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("submitted_at", workspace.models.UTCDateTime(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=True),
        sa.Column("attachments", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["approval_requests.id"],
            name=op.f("fk_approval_versions_request_id_approval_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_versions")),
        sa.UniqueConstraint("request_id", "n", name="uq_approval_versions_request_n"),
    )
    with op.batch_alter_table("approval_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("consult_choice", sa.JSON(), nullable=True))
    bind = op.get_bind()
    requests = sa.table(
        "approval_requests",
        sa.column("id", sa.Integer()),
        sa.column("drafter_id", sa.Integer()),
        sa.column("status", sa.String()),
        sa.column("title", sa.String()),
        sa.column("body", sa.Text()),
        sa.column("amount", sa.BigInteger()),
        sa.column("submitted_at", workspace.models.UTCDateTime()),
        sa.column("attachments_frozen", sa.JSON()),
    )
    versions = sa.table(
        "approval_versions",
        sa.column("request_id", sa.Integer()),
        sa.column("n", sa.Integer()),
        sa.column("submitted_at", workspace.models.UTCDateTime()),
        sa.column("title", sa.String()),
        sa.column("body", sa.Text()),
        sa.column("amount", sa.BigInteger()),
        sa.column("attachments", sa.JSON()),
    )
    tasks = sa.table(
        "approval_tasks",
        sa.column("user_id", sa.Integer()),
        sa.column("request_id", sa.Integer()),
        sa.column("kind", sa.String()),
        sa.column("created_at", workspace.models.UTCDateTime()),
    )
    rows = bind.execute(sa.select(requests).where(requests.c.submitted_at.is_not(None))).all()
    if rows:
        bind.execute(
            versions.insert(),
            [
                {
                    "request_id": r.id,
                    "n": 1,
                    "submitted_at": r.submitted_at,
                    "title": r.title,
                    "body": r.body or "",
                    "amount": r.amount,
                    "attachments": r.attachments_frozen or [],
                }
                for r in rows
            ],
        )
    sent_back = [r for r in rows if r.status == "sent_back"]
    if sent_back:
        now = workspace.models.utcnow()
        bind.execute(
            tasks.insert(),
            [
                {"user_id": r.drafter_id, "request_id": r.id, "kind": "pending", "created_at": now}
                for r in sent_back
            ],
        )


def downgrade() -> None:
    bind = op.get_bind()
    bind.execute(
        sa.text(
            "DELETE FROM approval_tasks WHERE kind = 'pending' AND EXISTS (SELECT 1 FROM approval_requests r"
            " WHERE r.id = approval_tasks.request_id AND r.status = 'sent_back'"
            " AND r.drafter_id = approval_tasks.user_id)"
        )
    )
    op.drop_table("approval_versions")
    with op.batch_alter_table("approval_requests", schema=None) as batch_op:
        batch_op.drop_column("consult_choice")
