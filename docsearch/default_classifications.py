"""The default 文書分類 table a new install offers (``docsearch/data/classifications_default.csv``).

大分類 by the office's functions (総務, 企画・財政, 住民, 税務, 健康・福祉, 産業, 建設, 会計, 教育),
中分類 and 小分類 under them, each 小分類 with the 保存年限 a document filed under it gets by default.
Written for this project after the common practice of municipal 文書分類表 and 文書管理規程 (保存年限
1・3・5・10・30年・永年); no published table was copied.  It is the table of the demo village too
(``docsearch/demo_data/classifications.csv``, docs/demo-sources.md): one table, whether the village
is new or the demo.  Records staff replace or extend it with ``workspace classifications import``.
Loaded by migration ``0005_docsearch_classifications`` (so by ``workspace init``, ``serve`` and
``demo``), and only into an empty table.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from workspace import db

DEFAULT_TABLE = Path(__file__).with_name("data") / "classifications_default.csv"

_table = sa.table(
    "doc_classifications",
    sa.column("code", sa.String),
    sa.column("major", sa.String),
    sa.column("middle", sa.String),
    sa.column("minor", sa.String),
    sa.column("default_retention_years", sa.Integer),
)


def rows() -> list[dict[str, Any]]:
    """Return the default table as rows of ``doc_classifications``.

    The file lists ``code, name, level, parent, retention_years``; a row's 大/中/小分類 names are
    those of its parents and its own.  A 大分類 or 中分類 has no 保存年限 of its own (stored as None).
    """
    with DEFAULT_TABLE.open(encoding="utf-8", newline="") as f:
        table = list(csv.DictReader(f))
    by_code = {row["code"]: row for row in table}
    out = []
    for row in table:
        names: list[str] = []
        node: dict[str, str] | None = row
        while node is not None:
            names.insert(0, node["name"])
            node = by_code.get(node["parent"]) if node["parent"] else None
        names += [""] * (3 - len(names))
        years = row["retention_years"]
        out.append(
            {
                "code": row["code"],
                "major": names[0],
                "middle": names[1] or None,
                "minor": names[2] or None,
                "default_retention_years": int(years) if years and years != "永年" else None,
            }
        )
    return out


def seed_if_empty(connection: sa.Connection) -> int:
    """Insert the default table when ``doc_classifications`` has no row; return the rows added.

    It writes in the transaction of ``connection`` (a migration's), which commits it.
    """
    if connection.execute(sa.select(sa.func.count()).select_from(_table)).scalar():
        return 0
    table = rows()
    connection.execution_options(**{db.WRITE: True})  # this transaction writes (SQLite: the writer lock)
    connection.execute(_table.insert(), table)
    return len(table)
