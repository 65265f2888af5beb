"""Alembic environment: one schema per department, migrated over the async engine."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection

from app.schema import SCHEMAS, metadata
from shared.db import create_engine
from shared.settings import get_settings

config = context.config


def _url() -> str:
    return config.attributes.get("database_url") or get_settings().database_url


def _ours(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    # Only our departments' schemas: never Alembic's own version table or foreign objects.
    schema = getattr(obj, "schema", None)
    return type_ != "table" or schema in SCHEMAS


def _run(connection: Connection) -> None:
    for schema in SCHEMAS:
        connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    context.configure(
        connection=connection,
        target_metadata=metadata,
        include_schemas=True,
        include_object=_ours,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    engine = create_engine(_url(), pool_size=1)
    async with engine.begin() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("orderflow migrates online only: set ORDERFLOW_DATABASE_URL")
asyncio.run(_run_online())
