"""users: user names unique regardless of case (a unique index on lower(username))

Revision ID: 0004_username_nocase
Revises: 0003_notifications
Create Date: 2026-12-03

``pwtest2`` and ``PWTEST2`` could coexist: two accounts that a person, the audit log and the
directory (LDAP/AD compare user names without case) cannot tell apart. If the database already holds
such pairs, the upgrade refuses and lists them instead of choosing which account loses its name:
that is a decision about people and their records, for the operator (``workspace users rename``,
then ``workspace init`` again). Nothing is changed until then.
"""

import sqlalchemy as sa
from alembic import op

from workspace.migrate import UpgradeRefused

revision = "0004_username_nocase"
down_revision = "0003_notifications"
branch_labels = None
depends_on = None

INDEX = "uq_users_username_lower"
CLASHES = sa.text(
    "SELECT id, username, source, active FROM users WHERE lower(username) IN"
    " (SELECT lower(username) FROM users GROUP BY lower(username) HAVING count(*) > 1)"
    " ORDER BY lower(username), id"
)


def clash_report(rows: list) -> str:
    """Return the operator's message for rows of CLASHES (id, username, source, active)."""
    groups: dict[str, list] = {}
    for row in rows:
        groups.setdefault(row.username.lower(), []).append(row)
    lines = [
        "ユーザー名が大文字・小文字の違いだけで重なっているアカウントがあるため、"
        "更新を中止しました（何も変更していません）。",
        "Upgrade refused: these accounts differ only in the case of their user name (nothing was changed):",
    ]
    for key, members in groups.items():
        shown = ", ".join(
            f"{r.username} (id {r.id}, {r.source}, {'有効' if r.active else '無効'})" for r in members
        )
        lines.append(f"  {key}: {shown}")
    lines.append(
        "一方を `workspace users rename 旧名 新名` で改名してから、"
        "もう一度 `workspace init` を実行してください。"
    )
    return "\n".join(lines)


def upgrade() -> None:
    rows = op.get_bind().execute(CLASHES).all()
    if rows:
        raise UpgradeRefused(clash_report(rows))
    op.create_index(INDEX, "users", [sa.text("lower(username)")], unique=True)


def downgrade() -> None:
    op.drop_index(INDEX, table_name="users")
