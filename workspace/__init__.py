"""The village staff workspace: one Flask application for chat, 電子決裁 and 文書管理."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, redirect, request, url_for
from werkzeug.middleware.proxy_fix import ProxyFix

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the application: configuration, extensions, blueprints, Socket.IO, CLI, signals.

    config overrides environment variables (tests pass their temporary data dir here). Safe to call
    for many apps in one process: nothing below registers a second copy of anything shared.
    """
    # The application's modules load when an app is built, not when `workspace` is imported: the
    # console script (workspace.__main__) imports this package before it patches the standard library
    # for gevent (some of these modules create locks when imported, which must be gevent's), and every
    # domain module imports workspace.*, so `import workspace.db` must not pull the domains back in.
    import approvals
    import chat
    import docsearch
    from workspace import (
        admin,
        api,
        auth,
        cli,
        db,
        inputs,
        live_access,
        openapi,
        realtime,
        security,
        ui,
        views,
        web,
    )
    from workspace.config import load_config
    from workspace.extensions import csrf, limiter, login_manager

    app = Flask(__name__, template_folder=str(ROOT / "templates"), static_folder="static")
    app.config.from_mapping(load_config(config))
    inputs.init_app(app)  # bounded <int:> ids and checked JSON bodies (Japanese kept readable), first
    if int(app.config["TRUSTED_PROXIES"]) > 0:
        hops = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    security.configure(int(app.config["ARGON2_TIME_COST"]), int(app.config["ARGON2_MEMORY_KIB"]))
    db.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "workspace.login"
    login_manager.login_message = "サインインしてください。"
    login_manager.session_protection = None  # the server-side session key is the protection
    login_manager.user_loader(auth.load_session)

    @login_manager.unauthorized_handler
    def _unauthorized() -> Any:
        if web.is_api_request():
            return web.error_response(401)
        return redirect(url_for("workspace.login", next=request.full_path.rstrip("?")))

    web.init_app(app)
    ui.init_app(app)
    realtime.init_app(app)
    live_access.init_app(app)  # what a socket may hear is re-checked when access changes
    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(openapi.bp)
    cli.init_app(app)
    admin.init_app(app)  # the 管理 frame; each package registers its own sections below
    # The domain packages, each registering its own blueprints, Socket.IO events, commands and signal
    # receivers. The order follows their dependencies: chat and approvals need only the core;
    # docsearch comes last because it indexes both (it reads their services and hears their signals).
    chat.init_app(app)
    approvals.init_app(app)
    docsearch.init_app(app)
    return app
