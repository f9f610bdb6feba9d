"""`workspace chat …` commands for operators: sync, purge, export."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from chat import channels, export, retention
from chat.errors import ChatError
from workspace import directory

chat_group = AppGroup("chat", help="チャットの管理 (chat administration).")


@chat_group.command("sync")
def sync_command() -> None:
    """Put every active person in their 課's channel and out of the others (safe to run again)."""
    users = directory.active_users()
    channels.ensure_department_channels(users)
    click.echo(f"department channels in step for {len(users)} users")


@chat_group.command("purge")
def purge_command() -> None:
    """Hard-delete messages older than their channel's retention_days; log what went to the audit log."""
    results = retention.purge(actor="cli")
    if not results:
        click.echo("nothing to purge")
    for r in results:
        where = (
            f"channel {r.channel_id} (retention {r.retention_days} days)"
            if r.channel_id
            else "unsent uploads"
        )
        click.echo(f"{where}: {r.messages} messages, {r.attachments} attachments, {r.files} files removed")
    if any(r.messages for r in results) and not current_app.config.get("REDIS_URL"):
        # This process cannot reach the server's sockets without the message queue.
        click.echo(
            "open chat pages show the purged messages until they are reloaded (no WORKSPACE_REDIS_URL)"
        )


@chat_group.command("export")
@click.option("--channel", "channel_id", type=int, help="channel id")
@click.option("--user", "username", help="username: the messages this person wrote")
@click.option("--from", "since", type=click.DateTime(["%Y-%m-%d"]), help="first day (JST), inclusive")
@click.option("--to", "until", type=click.DateTime(["%Y-%m-%d"]), help="last day (JST), inclusive")
@click.option("--format", "fmt", type=click.Choice(export.FORMATS), default="json", show_default=True)
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--include-files", is_flag=True, help="write a zip: export.<format> and files/<sha256>")
@click.option("--as", "exporter", default="cli", show_default=True, help="name recorded in the audit log")
def export_command(
    channel_id: int | None,
    username: str | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
    fmt: str,
    out: Path,
    include_files: bool,
    exporter: str,
) -> None:
    """Compliance export of a channel or a person (deleted messages and edit history included)."""
    try:
        crit = export.criteria(
            channel_id, username, since.date() if since else None, until.date() if until else None
        )
    except ChatError as error:
        raise click.UsageError(error.message) from None
    records = export.collect(crit)
    if include_files:
        count = export.write_zip(out, crit, records, exporter, fmt)
        click.echo(f"{len(records)} messages and {count} files written to {out}")
    else:
        out.write_text(export.render(crit, records, exporter, fmt), encoding="utf-8", newline="")
        click.echo(f"{len(records)} messages written to {out}")
    export.record_audit(exporter, crit, len(records), fmt, via="cli", with_files=include_files)


def init_app(app: Flask) -> None:
    """Attach the chat command group to app.cli."""
    app.cli.add_command(chat_group)
