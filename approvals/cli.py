"""``workspace approvals …`` and ``workspace keys init``: route templates, signing keys, PDF verification."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from approvals import record, route_store, signing, signing_keys
from approvals.errors import ApprovalError

approvals_cli = AppGroup("approvals", help="電子決裁: routes and records.")
keys_cli = AppGroup("keys", help="The village signing key and certificate.")


@approvals_cli.command("routes-import")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--defaults", is_flag=True, help="Install the bundled templates whose key is unknown.")
def routes_import(files: tuple[Path, ...], defaults: bool) -> None:
    """Import route templates from JSON files (each becomes the next version of its key)."""
    if defaults:
        for row in route_store.install_defaults():
            click.echo(f"{row.key} v{row.version} ({row.name})")
    for path in files:
        try:
            row = route_store.save(json.loads(path.read_text(encoding="utf-8")), None)
        except (ApprovalError, json.JSONDecodeError) as error:
            raise click.ClickException(f"{path}: {error} {getattr(error, 'extra', '')}") from error
        click.echo(f"{row.key} v{row.version} ({row.name})")


@approvals_cli.command("routes-export")
@click.argument("key")
def routes_export(key: str) -> None:
    """Print the newest version of a route template as JSON."""
    row = route_store.latest(key)
    if row is None:
        raise click.ClickException(f"no route template {key}")
    click.echo(json.dumps(row.definition, ensure_ascii=False, indent=2))


@approvals_cli.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def verify(file: Path) -> None:
    """Check a signed 起案用紙: valid or invalid, and which request it records."""
    result = signing.verify_pdf(file.read_bytes(), record.key_dir())
    verdict = "valid" if result.valid else "INVALID"
    click.echo(f"{verdict}: {result.reason_ja}")
    click.echo(f"request: {result.request_id}  number: {result.document_number}  signer: {result.signer}")
    if not result.valid:
        raise SystemExit(1)


@keys_cli.command("init")
@click.option("--ca-cert", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--ca-key", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--overwrite", is_flag=True)
def keys_init(ca_cert: Path | None, ca_key: Path | None, overwrite: bool) -> None:
    """Create the signing key and certificate (a self-managed village CA unless --ca-cert/--ca-key)."""
    try:
        paths = signing_keys.init_keys(
            record.key_dir(),
            village_name=current_app.config["VILLAGE_NAME"],
            ca_cert=ca_cert,
            ca_key=ca_key,
            overwrite=overwrite,
        )
    except (FileExistsError, ValueError) as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"signing certificate: {paths.cert}")


def init_app(app: Flask) -> None:
    """Register the command groups (``keys`` only when no other package already did)."""
    app.cli.add_command(approvals_cli)
    if "keys" not in app.cli.commands:
        app.cli.add_command(keys_cli)
