"""Commands: workspace reindex | index drain | index status | import-documents | classifications import |
file-decisions | disposals settle."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import click
from flask import Flask
from flask.cli import with_appcontext

from docsearch import admin_status, disposal_approval, filing, importer, indexer
from docsearch.engine import IndexBusy
from docsearch.errors import DocumentError
from workspace.errors import ServiceError


def init_app(app: Flask) -> None:
    """Attach the docsearch commands to app.cli."""
    app.cli.add_command(reindex_command)
    app.cli.add_command(index_group)
    app.cli.add_command(import_command)
    app.cli.add_command(classifications_group)
    app.cli.add_command(file_decisions_command)
    app.cli.add_command(disposals_group)


@click.command("reindex")
@click.option(
    "--procs",
    type=click.IntRange(min=1),
    default=None,
    help="Processes to build with (default: every CPU; the web process itself uses SEARCH_INDEX_PROCS).",
)
@with_appcontext
def reindex_command(procs: int | None) -> None:
    """Rebuild the search index from the database (the database is the truth); searches go on
    answering from the old index until the new one is swapped in."""
    total = indexer.count_indexable()
    with click.progressbar(length=total, label="索引の再構築", file=sys.stderr) as bar:
        written = indexer.rebuild(progress=bar.update, procs=procs or os.cpu_count() or 1)
    admin_status.record_rebuild(written, actor="cli")
    click.echo(f"reindexed {written} entries")


@click.group("index")
def index_group() -> None:
    """The search index and its outbox."""


@index_group.command("drain")
@click.option("--loop", is_flag=True, help="Keep draining (a separate indexer worker).")
@click.option("--interval", default=1.0, show_default=True, help="Seconds between polls with --loop.")
@with_appcontext
def drain_command(loop: bool, interval: float) -> None:
    """Apply the outbox to the index: what commits owe it, including after a crash."""
    while True:
        try:
            done = indexer.drain()
        except IndexBusy:
            if not loop:
                raise click.ClickException(
                    "the search index is locked by another writer; try again"
                ) from None
            done = 0
        if done or not loop:
            click.echo(f"drained {done} outbox rows")
        if not loop:
            return
        time.sleep(interval)


@index_group.command("status")
@with_appcontext
def status_command() -> None:
    """Print the number of index entries and of outbox rows waiting."""
    stats = indexer.ready_index().stats()
    click.echo(f"entries: {stats.entries}  pending: {indexer.pending()}  path: {stats.location}")


@click.command("import-documents")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--metadata", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path), help="Write failures to this CSV.")
@with_appcontext
def import_command(folder: Path, metadata: Path, report: Path | None) -> None:
    """Register every file listed in the metadata CSV; skip files already registered (same sha256)."""

    def bar(rows):  # noqa: ANN001, ANN202 - click's progress bar as an iterator
        with click.progressbar(rows, label="文書の取込み", file=sys.stderr) as items:
            yield from items

    try:
        result = importer.import_documents(folder, metadata, progress=bar)
    except DocumentError as error:
        raise click.ClickException(error.message) from None
    click.echo(
        f"imported {len(result.imported)}, skipped {len(result.skipped)} (already registered), "
        f"failed {len(result.failed)}"
    )
    for path, reason in result.failed:
        click.echo(f"  FAILED {path}: {reason}", err=True)
    if report is not None:
        result.write_failures(report)
        click.echo(f"failure report: {report}")
    if result.failed:
        sys.exit(1)


@click.group("classifications")
def classifications_group() -> None:
    """The 文書分類 table."""


@classifications_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--replace", is_flag=True, help="The file is the whole table: remove (or retire) what it leaves out."
)
@click.option("--dry-run", is_flag=True, help="Only show what would change.")
@with_appcontext
def classifications_import_command(file: Path, replace: bool, dry_run: bool) -> None:
    """Load or update 文書分類 from a CSV (UTF-8 or Shift_JIS), as the 管理 page does.

    Columns: code, major, middle, minor, retention_years (empty or 永年: permanent), optional status
    (廃止: retired); or コード, 大分類, 中分類, 小分類, 保存年限, 状態 as the page exports them.
    """
    from docsearch import classifications

    data = file.read_bytes()
    try:
        if dry_run:
            result = classifications.plan(data, replace=replace)
        else:
            result = classifications.apply(None, data, replace=replace)
    except ServiceError as error:  # a bad line (CsvProblem) or a refused change
        raise click.ClickException(error.message) from None
    verb = "would add" if dry_run else "added"
    click.echo(f"{verb} {len(result.added)}, changed {len(result.changed)}, removed {len(result.removed)}")
    for kind, rows in (("+", result.added), ("~", result.changed), ("-", result.removed)):
        for row in rows:
            click.echo(f"  {kind} {row['code']} {row['label']} {row.get('outcome', '')}".rstrip())
    if not dry_run:
        click.echo(f"imported {result.rows} classifications")


@click.command("file-decisions")
@with_appcontext
def file_decisions_command() -> None:
    """File in the registry every approved 決裁 and attachment not filed yet (repairs a failed
    automatic filing)."""
    filed, failures = filing.file_unfiled()
    click.echo(f"filed {filed} decided requests, failed {len(failures)}")
    for request_id, reason in failures:
        click.echo(f"  FAILED approval {request_id}: {reason}", err=True)
    attached, refused = filing.file_unfiled_attachments()
    click.echo(f"filed {attached} attachments, {len(refused)} not accepted by the registry")
    for request_id, name, reason in refused:
        click.echo(f"  not filed: approval {request_id} attachment {name}: {reason}", err=True)
    if failures:
        sys.exit(1)


@click.group("disposals")
def disposals_group() -> None:
    """廃棄 through a 決裁."""


@disposals_group.command("settle")
@with_appcontext
def disposals_settle_command() -> None:
    """Settle every 廃棄 proposal whose request is decided (after a crash; idempotent)."""
    click.echo(f"settled {disposal_approval.settle_decided()} proposals")
