"""電子決裁: route templates, the approval engine, numbering, the inbox, seals, PDF records and signing.

``init_app`` is called by ``workspace.create_app``: it registers the API and page blueprints and the
``workspace approvals`` / ``workspace keys`` commands.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the approval blueprints and CLI commands on ``app``."""
    from approvals import (  # noqa: F401 - views_drafts adds its pages to views.bp
        api,
        api_attachments,
        attachment_store,
        cli,
        demo,
        inbox,
        views,
        views_drafts,
    )
    from approvals import home as approvals_home
    from workspace import filestore, home, signals

    app.register_blueprint(api.bp)  # api_attachments has added its routes to api.bp
    app.register_blueprint(views.bp)
    cli.init_app(app)
    filestore.register(app, attachment_store.STORE)
    home.register(app, approvals_home.today)  # its part of 今日の仕事
    signals.demo_village_created.connect(demo.on_demo_village_created, weak=False)
