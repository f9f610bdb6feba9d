"""電子決裁: route templates, the approval engine, numbering, the inbox, seals, PDF records and signing.

``init_app`` is called by ``workspace.create_app``: it registers the API and page blueprints and the
``workspace approvals`` / ``workspace keys`` commands. Importing the package registers nothing.
"""

from __future__ import annotations

from flask import Flask

# api_attachments and admin_routes add their routes to api.bp and views_drafts its pages to views.bp
# when imported, so they are imported here, before init_app registers the blueprints.
from approvals import (  # noqa: F401
    admin_routes,
    admin_status,
    api,
    api_attachments,
    attachment_store,
    cli,
    demo,
    department_use,
    home,
    views,
    views_drafts,
)
from workspace import admin, departments, filestore, signals
from workspace import home as workspace_home


def init_app(app: Flask) -> None:
    """Register the approval blueprints, CLI commands, file store and demo receiver on ``app``.

    Safe for every app of a process: blinker keys a receiver by the function, so connecting it again
    for another app adds nothing, and the receiver acts on the app that sends (current_app).
    """
    app.register_blueprint(api.bp)
    app.register_blueprint(views.bp)
    app.register_blueprint(admin_routes.bp)
    admin.section(
        app,
        "決裁ルート",
        "approvals_admin.index",
        description="起案の種別ごとの決裁ルート（回議・合議・供覧・決裁、専決の金額）の確認・編集・試算・取り込み。",
    )
    cli.init_app(app)
    filestore.register(app, attachment_store.STORE)
    workspace_home.register(app, home.today)  # its part of 今日の仕事
    departments.register_in_use_check(app, department_use.open_requests)  # no 廃止 while 決裁 are open
    departments.register_transfer_consequences(app, department_use.transfer_consequences)  # 人事異動
    signals.demo_village_created.connect(demo.on_demo_village_created, weak=False)
    admin_status.init_app(app)  # the signing certificate in 管理 › システム状態
