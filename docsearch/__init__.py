"""文書管理 and unified search: document registry, file store, text extraction, the whoosh index.

``init_app`` is called by ``workspace.create_app``: it registers the page and API blueprints, the
CLI commands and the signal receivers that put approvals and chat messages in the index outbox.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Wire docsearch into app: blueprints, commands, signal receivers."""
    from docsearch import api, cli, demo, files, receivers, views
    from docsearch import home as docsearch_home
    from workspace import filestore, home, signals

    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    home.register(app, docsearch_home.today)  # its part of 今日の仕事
    cli.init_app(app)
    receivers.connect(app)
    filestore.register(app, files.STORE)
    signals.demo_village_created.connect(demo.on_demo_village_created, weak=False)
    signals.demo_village_ready.connect(demo.on_demo_village_ready, weak=False)
