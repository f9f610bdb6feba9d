"""The 文書 part of 今日の仕事: recent documents of my 課, and for records staff what expires this 年度."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select

from docsearch import permissions
from docsearch.models import STATUS_ACTIVE, Document
from workspace import calendar, db
from workspace.models import User

RECENT = 5


def today(user: User) -> dict[str, Any]:
    """Return the registry fields of 今日の仕事 for ``user`` (documents they may see only)."""
    session = db.session()
    recent: list[dict[str, Any]] = []
    if user.department_id is not None:
        candidates = session.execute(
            select(Document)
            .where(Document.department_id == user.department_id, Document.status == STATUS_ACTIVE)
            .order_by(Document.created_at.desc(), Document.id.desc())
            .limit(RECENT * 4)
        ).scalars()
        for doc in candidates:
            if permissions.can_view(user, doc):
                recent.append(
                    {
                        "id": doc.id,
                        "title": doc.title,
                        "document_number": doc.document_number,
                        "created_at": calendar.isoformat(doc.created_at),
                    }
                )
            if len(recent) == RECENT:
                break
    expiring = 0
    if permissions.is_records(user):
        year_end = dt.date(calendar.fiscal_year(calendar.today()) + 1, 3, 31)
        expiring = session.execute(
            select(func.count())
            .select_from(Document)
            .where(Document.status == STATUS_ACTIVE, Document.retention_until <= year_end)
        ).scalar_one()
    return {"recent_documents": recent, "expiring_documents": expiring}
