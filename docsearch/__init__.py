"""文書管理 and unified search: document registry, file store, text extraction, the whoosh index.

``init_app`` is called by ``workspace.create_app``: it registers the page and API blueprints, the
CLI commands and the signal receivers that put approvals and chat messages in the index outbox.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Wire docsearch into app: blueprints, commands, signal receivers."""
    from docsearch import api, cli, files, receivers, views
    from workspace import filestore

    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    from docsearch import home as _home
    from workspace import home as _workspace_home

    _workspace_home.register(app, _home.today)
    cli.init_app(app)
    receivers.connect(app)
    filestore.register(app, filestore.Store("documents", files.store_root, files.referenced))
