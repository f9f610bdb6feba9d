"""`workspace chat …` commands for operators."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from chat import channels
from workspace import directory

chat_group = AppGroup("chat", help="チャットの管理 (chat administration).")


@chat_group.command("sync")
def sync_command() -> None:
    """Put every active person in their 課's channel and out of the others (safe to run again)."""
    users = directory.active_users()
    channels.ensure_department_channels(users)
    click.echo(f"department channels in step for {len(users)} users")


def init_app(app: Flask) -> None:
    """Attach the chat command group to app.cli."""
    app.cli.add_command(chat_group)
