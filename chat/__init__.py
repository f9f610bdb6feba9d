"""Real-time departmental chat: channels, messages, threads, 既読, typing and presence.

init_app wires the package into the application: pages, the /api/v1 endpoints, Socket.IO handlers,
the `workspace chat` commands and the directory signals that keep department channels in step.
Importing the package registers nothing; only init_app does.
"""

from __future__ import annotations

from flask import Flask

# api_admin, api_attachments, api_people and api_reactions add their routes to api.bp when imported,
# so they are imported here, before init_app registers it.
from chat import (  # noqa: F401
    admin_views,
    api,
    api_admin,
    api_attachments,
    api_people,
    api_reactions,
    channels,
    cli,
    demo,
    department_use,
    events,
    files,
    home,
    rooms,
    views,
)
from chat.models import Member
from workspace import departments, filestore, live_access, signals
from workspace import home as workspace_home


def init_app(app: Flask) -> None:
    """Register chat's blueprints, Socket.IO events, CLI commands and signal receivers on app.

    Safe for every app of a process: the blueprints, handlers, commands and stores are the app's own,
    and blinker keys a receiver by the function, so connecting it again for another app adds nothing.
    The receivers act on the app that sends the signal (current_app).
    """
    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    admin_views.init_app(app)  # 管理 › チャンネル: its pages and its section of the /admin page
    events.register()  # message:send, typing, presence on app's Socket.IO server
    workspace_home.register(app, home.today)  # its part of 今日の仕事
    cli.init_app(app)
    filestore.register(app, files.STORE)
    # A membership added or removed by any process re-checks every server's sockets (read marks,
    # which change members' other columns all day, do not); a socket is let into exactly the rooms
    # of its person's channels.
    live_access.watch(Member, "channel_id", "user_id", new_rows=True)
    live_access.room_policy("chat:channel:", rooms.allowed_rooms)
    departments.register_transfer_consequences(app, department_use.transfer_consequences)  # 人事異動
    signals.user_changed.connect(channels.on_user_changed, weak=False)
    signals.user_deactivated.connect(channels.on_user_deactivated, weak=False)
    signals.socket_connected.connect(rooms.on_socket_connected, weak=False)
    signals.socket_disconnected.connect(rooms.on_socket_disconnected, weak=False)
    signals.demo_village_created.connect(demo.on_demo_village_created, weak=False)
