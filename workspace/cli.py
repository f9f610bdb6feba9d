"""Commands: workspace init | serve | demo | users … | departments … | directory sync | audit verify |
files sweep.

The same commands are reachable as `flask --app wsgi …`.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import sys
import time
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from workspace import audit, directory, filestore, migrate, outbox, signals, ui


def init_app(app: Flask) -> None:
    """Attach every command to app.cli."""
    for command in (
        init_command,
        serve_command,
        demo_command,
        users,
        departments,
        directory_group,
        audit_group,
        files_group,
        outbox_group,
    ):
        app.cli.add_command(command)


def _fail(message: str) -> None:
    raise click.ClickException(message)


@click.command("init")
@with_appcontext
def init_command() -> None:
    """Create or upgrade the database schema (safe to run again)."""
    _upgrade(current_app._get_current_object())
    click.echo(f"database ready: {_redacted(current_app.config['DATABASE_URL'])}")


def _upgrade(app: Flask) -> None:
    """Upgrade the schema; a migration that refuses (data only the operator may change) ends the command."""
    try:
        migrate.upgrade(app)
    except migrate.UpgradeRefused as error:
        _fail(str(error))


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


# --- serve -------------------------------------------------------------------------------------


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--debug", is_flag=True, help="Debug mode: templates fail on undefined variables.")
@with_appcontext
def serve_command(host: str, port: int, debug: bool) -> None:
    """Serve HTTP and WebSocket with gevent (a production server, not Werkzeug's)."""
    _serve(host, port, debug=debug)


def _serve(host: str, port: int, *, debug: bool = False) -> None:
    app = current_app._get_current_object()
    if debug:
        app.debug = True
        ui.strict_templates(app)
    if app.config["ASYNC_MODE"] != "gevent":
        # gevent must patch the standard library before anything else is imported, so a server
        # started through `flask --app wsgi serve` re-executes itself through the patched entry point.
        os.environ["WORKSPACE_ASYNC_MODE"] = "gevent"
        os.execv(  # noqa: S606 - re-exec of our own interpreter
            sys.executable,
            [sys.executable, "-m", "workspace", "serve", "--host", host, "--port", str(port)]
            + (["--debug"] if debug else []),
        )
    from workspace.realtime import socketio

    _upgrade(app)
    if app.config["DIRECTORY"] == "ldap":
        socketio.start_background_task(_sync_forever, app)
    _stop_on_signals(socketio, app.config["SHUTDOWN_GRACE_SECONDS"])
    # Work an earlier process owed but did not finish (it was killed): the outbox jobs, and what
    # the domains keep themselves (the search index's rows).
    signals.server_started.send(app)
    outbox.worker_for(app).request()
    click.echo(f"serving on http://{host}:{port}", err=True)
    socketio.run(app, host=host, port=port, log_output=False, use_reloader=False)
    # The server took its last request: let the domains finish what they owe (the search index
    # applies the outbox rows committed just before the stop), then exit normally.
    click.echo("server stopped; finishing background work", err=True)
    signals.server_stopping.send(app)
    click.echo("stopped", err=True)


def _stop_on_signals(socketio: Any, grace: float) -> None:
    """On SIGTERM (systemd's stop) or SIGINT: stop taking requests, give those in flight ``grace``
    seconds, then return from ``socketio.run`` (instead of dying mid-request with work pending)."""
    import gevent

    def stop() -> None:
        server = socketio.wsgi_server
        if server is not None:
            server.stop(timeout=grace)

    for signum in (signal.SIGTERM, signal.SIGINT):
        # The callback runs in the event loop and must not block: the stop runs in its own greenlet.
        gevent.signal_handler(signum, gevent.spawn, stop)


def _sync_forever(app: Flask) -> None:
    """Sync the directory at start, then every LDAP_SYNC_INTERVAL seconds."""
    interval = int(app.config["LDAP_SYNC_INTERVAL"])
    while True:
        with app.app_context():
            try:
                report = directory.sync_from_ldap()
                app.logger.info("directory sync: %s", report)
            except Exception:
                app.logger.exception("directory sync failed; will retry")
        if interval <= 0:
            return
        time.sleep(interval)


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Create the demo village and stop.")
@click.option("--empty", is_flag=True, help="Only the people and routes: no chat, 決裁 or documents.")
@with_appcontext
def demo_command(host: str, port: int, no_serve: bool, empty: bool) -> None:
    """Create a lived-in demo village (local accounts) in the data directory, print logins, serve it."""
    from workspace import demo

    app = current_app._get_current_object()
    _upgrade(app)
    if app.config["DIRECTORY"] != "local":
        _fail("the demo uses local accounts: unset WORKSPACE_DIRECTORY or set it to local")
    started = time.monotonic()
    people = demo.create_demo_village(lived_in=not empty)
    click.echo(demo.format_logins(people))
    click.echo(f"\nデモ村の準備: {time.monotonic() - started:.1f} 秒")
    if not no_serve:
        _serve(host, port)


# --- users and departments ---------------------------------------------------------------------


@click.group("users")
def users() -> None:
    """Manage local accounts."""


@users.command("add")
@click.argument("username")
@click.option("--name", "display_name", required=True, help="氏名, e.g. '山田 太郎'")
@click.option("--kana", "display_name_kana", help="読み, e.g. 'やまだ たろう'")
@click.option("--department", "department_code", help="課コード")
@click.option("--section", "section_code", help="係コード")
@click.option("--title", help="役職 (村長, 副村長, 課長, 係長, 主事 …)")
@click.option("--mail")
@click.option("--role", "roles", multiple=True, help="admin, records … (repeatable)")
@click.password_option(prompt="パスワード")
@with_appcontext
def users_add(
    username: str,
    display_name: str,
    display_name_kana: str | None,
    department_code: str | None,
    section_code: str | None,
    title: str | None,
    mail: str | None,
    roles: tuple[str, ...],
    password: str,
) -> None:
    """Add a local account."""
    try:
        directory.add_local_user(
            username,
            display_name,
            password,
            display_name_kana=display_name_kana,
            department_code=department_code,
            section_code=section_code,
            title=title,
            mail=mail,
            roles=roles,
        )
    except directory.DirectoryInputError as error:
        _fail(str(error))
    click.echo(f"added {username}")


@users.command("list")
@with_appcontext
def users_list() -> None:
    """List accounts."""
    from sqlalchemy import select

    from workspace import db
    from workspace.models import User

    for user in db.session().execute(select(User).order_by(User.username)).unique().scalars():
        dept = user.department.name if user.department else "-"
        state = "active" if user.active else "disabled"
        click.echo(
            f"{user.username:<20} {user.display_name:<12} {dept:<12} {user.title or '-':<6} "
            f"{','.join(sorted(user.roles)) or '-':<14} {user.source:<5} {state}"
        )


@users.command("set-password")
@click.argument("username")
@click.password_option(prompt="新しいパスワード")
@with_appcontext
def users_set_password(username: str, password: str) -> None:
    """Set a local account's password."""
    try:
        directory.update_local_user(username, actor="cli", password=password)
    except directory.DirectoryInputError as error:
        _fail(str(error))
    click.echo(f"password changed for {username}")


@users.command("update")
@click.argument("username")
@click.option("--name", "display_name")
@click.option("--kana", "display_name_kana", help="読み; an empty string clears it")
@click.option("--department", "department_code")
@click.option("--title")
@click.option("--role", "roles", multiple=True, help="replace the roles (repeatable)")
@with_appcontext
def users_update(
    username: str,
    display_name: str | None,
    display_name_kana: str | None,
    department_code: str | None,
    title: str | None,
    roles: tuple[str, ...],
) -> None:
    """Change a local account's name, 読み, department, title or roles."""
    try:
        directory.update_local_user(
            username,
            actor="cli",
            display_name=display_name,
            display_name_kana=display_name_kana,
            department_code=department_code,
            title=title,
            roles=roles or None,
        )
    except directory.DirectoryInputError as error:
        _fail(str(error))
    click.echo(f"updated {username}")


@users.command("rename")
@click.argument("old")
@click.argument("new")
@with_appcontext
def users_rename(old: str, new: str) -> None:
    """Give an account a new user name (e.g. one of two that differ only in case).

    OLD must match exactly. Route templates that name the person by user name must be updated too.
    """
    try:
        directory.rename_user(old, new, actor="cli")
    except directory.DirectoryInputError as error:
        _fail(str(error))
    click.echo(f"renamed {old} to {new}")


@users.command("disable")
@click.argument("username")
@with_appcontext
def users_disable(username: str) -> None:
    """Disable an account: its sessions, tokens and sockets stop working at once."""
    try:
        directory.set_active(username, False, actor="cli")
    except directory.DirectoryInputError as error:
        _fail(str(error))
    click.echo(f"disabled {username}")


@users.command("enable")
@click.argument("username")
@with_appcontext
def users_enable(username: str) -> None:
    """Enable an account again."""
    try:
        directory.set_active(username, True, actor="cli")
    except directory.DirectoryInputError as error:
        _fail(str(error))
    click.echo(f"enabled {username}")


@click.group("departments")
def departments() -> None:
    """Manage departments (課) and sections (係) of the local directory."""


@departments.command("add")
@click.argument("code")
@click.argument("name")
@click.option("--parent", "parent_code", help="the 課 a 係 belongs to")
@click.option("--prefix", help="short mark for document numbers (default: first character)")
@with_appcontext
def departments_add(code: str, name: str, parent_code: str | None, prefix: str | None) -> None:
    """Add or rename a department or section."""
    from workspace import db

    parent = directory.get_department(parent_code) if parent_code else None
    if parent_code and parent is None:
        _fail(f"課コード {parent_code} は登録されていません。")
    try:
        with db.write():
            directory.ensure_department(code, name, parent=parent, prefix=prefix)
            audit.record("department.save", actor="cli", target=code, detail={"name": name})
    except directory.DirectoryInputError as error:
        _fail(str(error))
    click.echo(f"saved {code} {name}")


@departments.command("list")
@with_appcontext
def departments_list() -> None:
    """List departments and sections."""
    for dept in directory.list_departments(include_sections=True):
        indent = "  " if dept.is_section else ""
        click.echo(f"{indent}{dept.code:<8} {dept.name}  ({dept.prefix})")


# --- directory and audit -------------------------------------------------------------------------


@click.group("directory")
def directory_group() -> None:
    """The LDAP / Active Directory connection."""


@directory_group.command("sync")
@with_appcontext
def directory_sync() -> None:
    """Import and update every user and department from LDAP; deactivate who vanished."""
    from workspace import ldap

    if current_app.config["DIRECTORY"] != "ldap":
        _fail("WORKSPACE_DIRECTORY is not ldap: nothing to sync")
    try:
        report = directory.sync_from_ldap(progress=_progress_bar)
    except ldap.DirectoryUnavailable as error:
        _fail(f"directory unavailable: {error}")
    click.echo(
        f"{report.total} entries: {report.created} created, {report.updated} updated, "
        f"{report.deactivated} deactivated"
    )


def _progress_bar(entries):
    """Wrap entries in a click progress bar on stderr and return an iterator over them."""
    with click.progressbar(entries, label="ディレクトリ同期", file=sys.stderr) as bar:
        yield from bar


@click.group("audit")
def audit_group() -> None:
    """The hash-chained audit log."""


@audit_group.command("verify")
@with_appcontext
def audit_verify() -> None:
    """Walk the chain; exit 1 and name the first changed, removed or inserted entry."""
    result = audit.verify()
    if not result.ok:
        click.echo(f"audit log BROKEN: {result.message} [{result.problem}]", err=True)
        sys.exit(1)
    click.echo(f"audit log intact: {result.message}")


@click.group("files")
def files_group() -> None:
    """The content-addressed file stores of chat, approvals and documents."""


@files_group.command("sweep")
@click.option("--dry-run", is_flag=True, help="List what would be removed, remove nothing.")
@click.option(
    "--min-age-hours",
    default=24.0,
    show_default=True,
    type=click.FloatRange(min=1.0),
    help="Only files older than this (an upload whose transaction still runs is never touched).",
)
@with_appcontext
def files_sweep(dry_run: bool, min_age_hours: float) -> None:
    """Remove files no row refers to (left by a crash between a write and its commit)."""
    result = filestore.sweep(dt.timedelta(hours=min_age_hours), dry_run=dry_run, actor="cli")
    verb = "would remove" if dry_run else "removed"
    for store, name, size in result.orphans + result.stale_uploads:
        click.echo(f"  {verb} {store}: {name} ({size:,} bytes)")
    click.echo(
        f"{verb} {len(result.orphans)} unreferenced files and {len(result.stale_uploads)} stale uploads "
        f"({result.bytes:,} bytes)"
    )


# --- outbox ------------------------------------------------------------------------------------


@click.group("outbox")
def outbox_group() -> None:
    """Work owed after changes (signed records, filing): see what waits, run it now."""


@outbox_group.command("status")
@with_appcontext
def outbox_status_command() -> None:
    """Print how many jobs of each kind wait, and the last error of any that failed."""
    for kind in sorted(outbox.HANDLERS):
        click.echo(f"{kind}: {outbox.pending([kind])}")
    for job in outbox.failed():
        click.echo(f"  job {job.id} {job.kind}({job.ref}) attempts={job.attempts}: {job.last_error}")


@outbox_group.command("run")
@with_appcontext
def outbox_run_command() -> None:
    """Run every due job now, in this process (a server's worker does it by itself)."""
    click.echo(f"done: {outbox.run_due()}")
