"""The 合議 picker of the draft and edit forms: which departments a route lets the drafter choose.

A route offers the choice with ``"choose": true`` on a consult step (see :mod:`approvals.routes`);
the forms name each checkbox ``consult-<route key>-<step index>`` so the pickers of several routes
can sit in one form while only the selected route's counts.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from approvals import route_store
from workspace import db
from workspace.models import Department


def consult_options(route_key: str | None, chosen: dict[str, list[str]] | None) -> list[dict[str, Any]]:
    """Return the 合議 steps of a route that let the drafter choose, with their departments:
    ``[{"index", "departments": [{"code", "name", "checked"}]}]`` (empty for other routes)."""
    template_row = route_store.latest(route_key) if route_key else None
    if template_row is None:
        return []
    template = route_store.parsed(template_row)
    steps = [(i, s.choosable_departments()) for i, s in enumerate(template.steps) if s.choose]
    if not steps:
        return []
    codes = {c for _, cs in steps for c in cs}
    query = select(Department.code, Department.name).where(Department.code.in_(codes))
    names = {code: name for code, name in db.session().execute(query)}
    chosen = chosen or {}
    return [
        {
            "index": index,
            "departments": [
                {"code": c, "name": names.get(c, f"課コード{c}"), "checked": c in chosen.get(str(index), ())}
                for c in codes_of_step
            ],
        }
        for index, codes_of_step in steps
    ]


def all_consult_options(routes: list[Any], route_key: str | None, chosen: Any) -> list[dict[str, Any]]:
    """Return ``[{"route", "steps": consult_options(...)}]`` for every route that offers a choice;
    the form shows the selected route's picker and hides the others."""
    out = []
    for r in routes:
        steps = consult_options(r.key, chosen if r.key == route_key else None)
        if steps:
            out.append({"route": r.key, "steps": steps})
    return out


def choice_from_form(form: Any, route_key: str | None) -> dict[str, list[str]] | None:
    """Return the 合議 departments ticked on the form (``consult-<route>-<step index>`` checkboxes)."""
    options = consult_options(route_key, None)
    if not options:
        return None
    return {str(o["index"]): form.getlist(f"consult-{route_key}-{o['index']}") for o in options}
