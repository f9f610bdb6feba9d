"""Every migration's revision id fits alembic_version.version_num (VARCHAR(32)): PostgreSQL refuses a
longer one at upgrade time, while SQLite stores it anyway, so the SQLite run alone would not notice."""

from __future__ import annotations

from pathlib import Path

from alembic.script import ScriptDirectory

from tests.conftest import make_app
from workspace import migrate


def test_every_revision_id_fits_the_version_table(tmp_path: Path) -> None:
    app = make_app(f"sqlite:///{tmp_path / 'ids.sqlite3'}", tmp_path / "data")
    scripts = ScriptDirectory.from_config(migrate.alembic_config(app))
    revisions = list(scripts.walk_revisions())
    assert len(revisions) >= 20  # every package's chain is found
    too_long = [r.revision for r in revisions if len(r.revision) > 32]
    assert too_long == []
    app.extensions["db_engine"].dispose()
