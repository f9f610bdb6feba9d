"""管理: the administrators' and records staff's pages under /admin and their API under /api/v1/admin.

This package is the frame only: the /admin landing page, the role checks every admin page and call
uses, and the registry of sections.  Each section lives with the domain whose services it calls
(職員 and 課・係 here in ``workspace.admin``; 決裁ルート in approvals; チャンネル in chat; 文書分類 in
docsearch) and registers itself with ``section()`` from its package's ``init_app``, so the landing
page links only to what exists and the core never imports a domain.  The pages call the same
services as the CLI and the API: no rule is written twice.

Roles are checked on the server for every page and call (``page_role`` answers 403 with the error
page; ``api_role`` answers 403 JSON); a person without the role is not shown the link either.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from flask import Blueprint, Flask, abort, current_app, render_template, url_for
from flask_login import current_user, login_required

from workspace.errors import ServiceError
from workspace.web import api_blueprint, api_login_required

bp = Blueprint("admin", __name__, url_prefix="/admin")
api_bp = api_blueprint("admin_api", __name__)


@dataclass(frozen=True)
class Section:
    """One entry of the 管理 landing page: its accessible name, its page, who may open it."""

    name: str
    endpoint: str
    roles: tuple[str, ...]
    description: str
    order: int


#: The roles that open the 管理 area at all (each section names its own).
ADMIN_ROLES = ("admin", "records")

#: The landing page's order (the issue's list).
ORDER = ("職員", "課・係", "決裁ルート", "チャンネル", "文書分類", "監査ログ", "システム状態")


def section(
    app: Flask, name: str, endpoint: str, *, roles: tuple[str, ...] = ("admin",), description: str
) -> None:
    """Register a section of the 管理 area for ``app`` (from a package's ``init_app``)."""
    sections: dict[str, Section] = app.extensions.setdefault("admin_sections", {})
    order = ORDER.index(name) if name in ORDER else len(ORDER) + len(sections)
    sections[name] = Section(name, endpoint, tuple(roles), description, order)


def sections_for(user: Any) -> list[Section]:
    """The sections ``user`` may open, in the landing page's order (none for a person without a role)."""
    if not getattr(user, "is_authenticated", False):
        return []
    found = current_app.extensions.get("admin_sections", {}).values()
    return sorted((s for s in found if any(user.has_role(r) for r in s.roles)), key=lambda s: s.order)


def may_administer(user: Any) -> bool:
    """True when ``user`` may open at least one 管理 section (the header shows the 管理 link)."""
    return bool(sections_for(user))


def _has_any(roles: tuple[str, ...]) -> bool:
    return current_user.is_authenticated and any(current_user.has_role(r) for r in roles)


def page_role(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Sign-in required, then one of ``roles`` (default admin), else the 403 error page."""
    wanted = roles or ("admin",)

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not _has_any(wanted):
                abort(403)
            return view(*args, **kwargs)

        return login_required(wrapper)

    return decorate


def api_role(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A valid session or token required (401), then one of ``roles`` (default admin), else 403 JSON."""
    wanted = roles or ("admin",)

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not _has_any(wanted):
                raise ServiceError("この操作は管理者だけができます。", "forbidden", status=403)
            return view(*args, **kwargs)

        return api_login_required(wrapper)

    return decorate


@bp.get("")
@login_required
def index() -> Any:
    """The 管理 landing page: a link (with its section's name) to each section the person may open."""
    if not _has_any(ADMIN_ROLES):
        abort(403)
    found = sections_for(current_user)
    links = [(s, url_for(s.endpoint)) for s in found]
    return render_template("workspace/admin/index.html", links=links)


def init_app(app: Flask) -> None:
    """Register the 管理 blueprints, the core's sections and the header's 管理 link."""
    # The section modules add their routes to bp / api_bp when imported, so they load before the
    # blueprints are registered (and only when an app is built, like every module of the app).
    from workspace.admin import audit, departments, jobs, status  # noqa: F401
    from workspace.admin import users as users_section

    app.register_blueprint(bp)
    app.register_blueprint(api_bp)
    jobs.init_app(app)
    users_section.init_app(app)
    section(
        app, "課・係", "admin.departments",
        description="課と係の一覧と文書番号の略称。追加・名称変更・係の移動・廃止と、人事異動の確認と適用。",
    )
    section(app, "監査ログ", "admin.audit_page",
            description="だれが・いつ・何をしたかの記録を絞り込んで見ます。改ざん検証とCSVの書き出しもここから。")
    section(app, "システム状態", "admin.status_page",
            description="データベース、名簿、検索の索引、空き容量、署名の証明書などが動いているかを確かめます。")
    app.jinja_env.globals["may_administer"] = lambda: may_administer(current_user)
