"""Real-time departmental chat: channels, messages, threads, 既読, typing and presence.

init_app wires the package into the application: pages, the /api/v1 endpoints, Socket.IO handlers,
the `workspace chat` commands and the directory signals that keep department channels in step.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register chat's blueprints, Socket.IO events, CLI commands and signal receivers on app."""
    # The api_* modules add their routes to api.bp, so they are imported before it is registered.
    from chat import (  # noqa: F401
        api,
        api_admin,
        api_attachments,
        api_people,
        api_reactions,
        channels,
        cli,
        demo,
        events,
        files,
        rooms,
        views,
    )
    from chat import home as chat_home
    from workspace import filestore, home, signals

    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    events.register()
    home.register(app, chat_home.today)  # its part of 今日の仕事
    cli.init_app(app)
    filestore.register(app, files.STORE)
    # weak=False: the receivers are module functions, but blinker must not drop them either way.
    signals.user_changed.connect(channels.on_user_changed, weak=False)
    signals.user_deactivated.connect(channels.on_user_deactivated, weak=False)
    signals.socket_connected.connect(rooms.on_socket_connected, weak=False)
    signals.socket_disconnected.connect(rooms.on_socket_disconnected, weak=False)
    signals.demo_village_created.connect(demo.on_demo_village_created, weak=False)
