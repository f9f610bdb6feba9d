"""Schema migrations with Alembic; `workspace init` upgrades every package's branch to its head."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from flask import Flask

from workspace import ROOT

# Each domain package owns a branch of migrations; a package without one simply is not listed yet.
VERSION_DIRS = [
    "workspace/migrations/versions",
    "chat/migrations",
    "approvals/migrations",
    "docsearch/migrations",
]


class UpgradeRefused(RuntimeError):
    """A migration found data it must not change on its own (its message tells the operator what to do).

    Raised inside the migration's transaction, so nothing of that upgrade is applied.
    """


def alembic_config(app: Flask) -> Config:
    """Return an Alembic config bound to app's database."""
    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "workspace" / "migrations"))
    locations = [str(ROOT / d) for d in VERSION_DIRS if (ROOT / d).is_dir()]
    cfg.set_main_option("version_locations", " ".join(locations))
    cfg.set_main_option("path_separator", "space")
    cfg.set_main_option("sqlalchemy.url", app.config["DATABASE_URL"].replace("%", "%%"))
    cfg.attributes["app"] = app
    return cfg


def upgrade(app: Flask) -> None:
    """Create or upgrade the schema to the newest revision of every branch (idempotent)."""
    command.upgrade(alembic_config(app), "heads")
