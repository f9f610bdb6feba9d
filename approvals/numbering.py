"""文書番号: one sequence per 年度 (1 April – 31 March) and department prefix, without gaps or duplicates.

The counter row is incremented with ``UPDATE … SET last = last + 1 … RETURNING last`` inside the
transaction that decides (or submits) the request. The UPDATE holds the row lock until that
transaction ends, so concurrent decisions take numbers one after another, and a rollback gives the
number back together with the decision: no gap, no duplicate. (On SQLite every transaction already
holds the database write lock from its first statement.)
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from approvals.models import NumberCounter
from workspace import calendar, db


@db.joins_unit
def next_sequence(prefix: str, fiscal_year: int) -> int:
    """Return the next number of (``fiscal_year``, ``prefix``) within the current transaction."""
    session = db.session()
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    # Create the year's counter on first use; a concurrent creator makes this a no-op, not an error.
    session.execute(
        insert(NumberCounter)
        .values(fiscal_year=fiscal_year, prefix=prefix, last=0)
        .on_conflict_do_nothing(index_elements=["fiscal_year", "prefix"])
    )
    return session.execute(
        update(NumberCounter)
        .where(NumberCounter.fiscal_year == fiscal_year, NumberCounter.prefix == prefix)
        .values(last=NumberCounter.last + 1)
        .returning(NumberCounter.last)
    ).scalar_one()


def format_number(number_format: str, *, prefix: str, n: int, fiscal_year: int) -> str:
    """Return the document number for a template's ``number_format`` (validated by parse_template)."""
    _, era_year = calendar.era(dt.date(fiscal_year, 4, 1))
    return number_format.format(dept_prefix=prefix, n=n, fiscal_year=fiscal_year, era_year=era_year)


def issue(number_format: str, prefix: str, on: dt.date) -> tuple[str, int, int]:
    """Take the next number for ``prefix`` in the 年度 of ``on``; return (number, 年度, sequence)."""
    year = calendar.fiscal_year(on)
    n = next_sequence(prefix, year)
    return format_number(number_format, prefix=prefix, n=n, fiscal_year=year), year, n
