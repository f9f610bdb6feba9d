"""Route templates in the database: versioned, never edited in place.

Saving a template with an existing key adds version n+1. A draft follows the newest version until it
is submitted; submission records the version used and freezes the resolved route into the request,
so later versions never change requests in flight.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from approvals.errors import Conflict, Invalid
from approvals.models import RouteTemplateVersion
from approvals.routes import RouteTemplate, RouteTemplateError, parse_template, template_to_json
from workspace import audit, db
from workspace.models import User

DEFAULTS_DIR = Path(__file__).resolve().parent / "default_routes"


def latest(key: str) -> RouteTemplateVersion | None:
    """Return the newest version of the template ``key``, or None."""
    if not isinstance(key, str) or "\x00" in key:  # a form's hostile key: no template has it
        return None
    return (
        db.session()
        .execute(
            select(RouteTemplateVersion)
            .where(RouteTemplateVersion.key == key)
            .order_by(RouteTemplateVersion.version.desc())
            .limit(1)
        )
        .scalars()
        .first()
    )


def list_latest() -> list[RouteTemplateVersion]:
    """Return the newest version of every template, by key."""
    newest = (
        select(RouteTemplateVersion.key, func.max(RouteTemplateVersion.version).label("v"))
        .group_by(RouteTemplateVersion.key)
        .subquery()
    )
    query = (
        select(RouteTemplateVersion)
        .join(
            newest,
            (RouteTemplateVersion.key == newest.c.key) & (RouteTemplateVersion.version == newest.c.v),
        )
        .order_by(RouteTemplateVersion.key)
    )
    return list(db.session().execute(query).scalars())


def parsed(row: RouteTemplateVersion) -> RouteTemplate:
    """Return the validated template of a stored version."""
    return parse_template(row.definition)


@db.writes
def save(data: Any, actor: User | None) -> RouteTemplateVersion:
    """Validate ``data`` and store it as the next version of its key; commit.

    Raises :class:`Invalid` (with the JSON ``path``) for a malformed template and :class:`Conflict`
    when another save of the same key won the race for the version number.
    """
    try:
        template = parse_template(data)
    except RouteTemplateError as error:
        raise Invalid(error.message_ja, code="invalid_route", path=error.path) from error
    session = db.session()
    previous = latest(template.key)
    current = previous.version if previous is not None else None
    row = RouteTemplateVersion(
        key=template.key,
        version=(current or 0) + 1,
        name=template.name,
        # Stored normalised, so an export is exactly what the engine understood.
        definition=template_to_json(template),
        created_by=actor.id if actor else None,
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError as error:  # the unit rolls back
        raise Conflict("同じルートが同時に更新されました。もう一度お試しください。") from error
    audit.record(
        "approval.route.save",
        actor=actor.username if actor else "system",
        target=f"route:{row.key}",
        # who (actor), what (target, version), before and after (the whole definition each time)
        detail={
            "version": row.version,
            "before": previous.definition if previous is not None else None,
            "after": row.definition,
        },
    )
    return row


def install_defaults(actor: User | None = None) -> list[RouteTemplateVersion]:
    """Store each bundled template (approvals/default_routes/*.json) whose key is not yet known."""
    added = []
    for path in sorted(DEFAULTS_DIR.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if latest(data["key"]) is None:
            added.append(save(data, actor))
    return added


def route_json(row: RouteTemplateVersion) -> dict[str, Any]:
    """Return the API shape of a stored template version."""
    return {
        "id": row.id,
        "key": row.key,
        "version": row.version,
        "name": row.name,
        "definition": row.definition,
    }
