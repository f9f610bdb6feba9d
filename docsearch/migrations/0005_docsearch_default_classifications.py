"""docsearch: a default 文書分類 table for a new install (only when the table is empty)

Revision ID: 0005_docsearch_classifications
Revises: 0004_docsearch_attachments

The rows are ``docsearch/data/classifications_default.csv`` (see ``docsearch.default_classifications``
for where they come from).  An office that has imported its own table keeps it: nothing is added to a
table that has rows.  No schema change.
"""

import sqlalchemy as sa
from alembic import op

from docsearch import default_classifications

revision = "0005_docsearch_classifications"
down_revision = "0004_docsearch_attachments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    default_classifications.seed_if_empty(op.get_bind())


def downgrade() -> None:
    # Remove the default rows no document was filed under (an office may have used some of them).
    codes = [row["code"] for row in default_classifications.rows()]
    op.execute(
        sa.text(
            "DELETE FROM doc_classifications WHERE code IN :codes AND id NOT IN "
            "(SELECT classification_id FROM documents WHERE classification_id IS NOT NULL)"
        ).bindparams(sa.bindparam("codes", codes, expanding=True))
    )
