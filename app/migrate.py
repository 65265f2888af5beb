"""Apply the Alembic migrations (every department's schema) to a database, as the schemas'
owner, and give the runtime role (gateways and workers) DML on them and nothing more."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from app.schema import SCHEMAS
from shared.db import create_engine, role_name, user_of

ROOT = Path(__file__).resolve().parent.parent

# What the runtime may do to orderflow's tables: read and write rows, never change a table.
TABLE_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"


def alembic_config(database_url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, *, runtime_role: str | None = None) -> None:
    """Bring the database at `database_url` (the schemas' owner) to the newest schema, then
    grant `runtime_role` DML on it (both safe to repeat)."""
    command.upgrade(alembic_config(database_url), "head")
    if runtime_role is not None:
        asyncio.run(grant_runtime(database_url, runtime_role))


def runtime_role_of(runtime_url: str, migration_url: str) -> str | None:
    """The role to grant DML to: the runtime URL's user when it is not the migrations' one."""
    runtime, owner = user_of(runtime_url), user_of(migration_url)
    return runtime if runtime and runtime != owner else None


def grant_statements(database: str, role: str) -> list[str]:
    """USAGE on each orderflow schema, DML on its tables, USAGE on its sequences, the same
    by default on what later migrations create there, and CONNECT on `database`."""
    who = role_name(role)
    statements = [f'GRANT CONNECT ON DATABASE "{database}" TO {who}']
    for schema in SCHEMAS:
        on = f'"{schema}"'
        statements += [
            f"GRANT USAGE ON SCHEMA {on} TO {who}",
            f"GRANT {TABLE_PRIVILEGES} ON ALL TABLES IN SCHEMA {on} TO {who}",
            f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {on} TO {who}",
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA {on} GRANT {TABLE_PRIVILEGES} ON TABLES TO {who}",
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA {on} GRANT USAGE ON SEQUENCES TO {who}",
        ]
    return statements


async def grant_runtime(database_url: str, role: str) -> None:
    """Run `grant_statements` for `role` as the owner at `database_url`."""
    engine = create_engine(database_url, pool_size=1)
    try:
        async with engine.begin() as connection:
            database = await connection.scalar(text("SELECT current_database()"))
            for statement in grant_statements(str(database), role):
                await connection.execute(text(statement))
    finally:
        await engine.dispose()
