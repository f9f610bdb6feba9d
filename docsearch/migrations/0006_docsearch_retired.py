"""docsearch: doc_classifications.retired_at (廃止 of an entry still used by documents)

Revision ID: 0006_docsearch_retired
Revises: 0005_docsearch_classifications
"""

import sqlalchemy as sa
from alembic import op

from workspace.models import UTCDateTime

revision = "0006_docsearch_retired"
down_revision = "0005_docsearch_classifications"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("doc_classifications", sa.Column("retired_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column("doc_classifications", "retired_at")
