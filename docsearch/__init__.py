"""文書管理 and unified search: document registry, file store, text extraction, the whoosh index.

``init_app`` is called by ``workspace.create_app``: it registers the page and API blueprints, the
CLI commands and the signal receivers that put approvals and chat messages in the index outbox.
Importing the package registers nothing.
"""

from __future__ import annotations

from flask import Flask

from docsearch import admin_classifications, admin_status, api, cli, demo, files, home, receivers, views
from workspace import filestore, signals
from workspace import home as workspace_home


def init_app(app: Flask) -> None:
    """Wire docsearch into app: blueprints, commands, file store, signal receivers.

    Safe for every app of a process: blinker keys a receiver by the function, so connecting it again
    for another app adds nothing, and the receivers act on the app that sends (current_app).
    """
    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    admin_classifications.init_app(app)  # 管理 › 文書分類
    workspace_home.register(app, home.today)  # its part of 今日の仕事
    cli.init_app(app)
    receivers.connect(app)
    filestore.register(app, files.STORE)
    signals.demo_village_created.connect(demo.on_demo_village_created, weak=False)
    signals.demo_village_ready.connect(demo.on_demo_village_ready, weak=False)
    admin_status.init_app(app)  # the search index and 索引の再構築 in 管理 › システム状態
