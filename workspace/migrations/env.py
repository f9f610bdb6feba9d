"""Alembic environment: runs against the application's engine (SQLite or PostgreSQL)."""

import contextlib

from alembic import context

from workspace.db import WRITE, Base, make_engine

config = context.config
app = config.attributes.get("app")


def _load_models() -> None:
    # Import every package's models so autogenerate sees the whole metadata.
    import importlib

    names = ("workspace.models", "workspace.notifications", "chat.models", "approvals.models")
    for name in (*names, "docsearch.models"):
        with contextlib.suppress(ModuleNotFoundError):
            importlib.import_module(name)


_load_models()
target_metadata = Base.metadata


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    engine = app.extensions["db_engine"] if app is not None else make_engine(url)
    # A migration is a write unit of its own (on SQLite: the writer lock and BEGIN IMMEDIATE).
    with engine.connect() as connection:
        connection.execution_options(**{WRITE: True})
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
