"""Alembic environment: the URL comes from the app's Settings (DATABASE_URL, or the embedded
SQLite file), never from alembic.ini; ``smarts-analyzer db upgrade`` runs it through Alembic's
command API. ``render_as_batch`` lets SQLite alter tables (it copies and renames them).

SQLite drops the old table of such a copy, which fails while rows elsewhere reference it and
foreign keys are enforced (the app turns them on). SQLite's documented procedure for altering a
table is followed instead: keys off for the migration — a pragma that only takes effect outside
a transaction, hence on the driver's connection before the migration's transaction begins — and
``PRAGMA foreign_key_check`` before committing, so a migration cannot leave a dangling reference."""

from __future__ import annotations

from alembic import context

from webapp.config import Settings
from webapp.record import Database
from webapp.record.models import Base

config = context.config


def run_migrations_online() -> None:
    url = config.attributes.get("database_url") or Settings.from_env().database_url
    db = Database(url)  # the same engine set-up as the app: 0600 file, WAL, psycopg 3
    try:
        with db.engine.connect() as connection:
            if db.is_sqlite:
                connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
            with connection.begin():
                context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True,
                                  compare_type=True)
                context.run_migrations()
                if db.is_sqlite and (dangling := connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()):
                    raise RuntimeError(f"the migration would leave references to missing rows: {dangling[:5]}")
    finally:
        db.dispose()


def run_migrations_offline() -> None:
    url = config.attributes.get("database_url") or Settings.from_env().database_url
    context.configure(url=url, target_metadata=Base.metadata, render_as_batch=True, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
