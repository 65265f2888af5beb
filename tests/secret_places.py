"""Where a secret could show, read as text for a test to search: a JSON document (a workflow
history, a description) with every base64 payload decoded, log records as a process writes
them, and every row of every table."""

from __future__ import annotations

import base64
import binascii
import logging
import re
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

# A string that may be base64 (payload data and metadata in a history's JSON).
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]{8,}={0,2}")


def readable(data: Any) -> str:
    """A JSON document (a history, a description) as text, with every base64 string (a
    payload's data and metadata: inputs, results, summaries, details) decoded beside it."""
    parts: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                parts.append(str(key))
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, str):
            parts.append(value)
            if _BASE64.fullmatch(value):
                try:
                    raw = base64.b64decode(value + "=" * (-len(value) % 4), altchars=b"-_")
                    parts.append(raw.decode("utf-8"))
                except (binascii.Error, UnicodeDecodeError):
                    pass
        else:
            parts.append(str(value))

    walk(data)
    return "\n".join(parts)


def log_text(records: list[logging.LogRecord]) -> str:
    """Every record as a process would write it (message, arguments, extras, traceback)."""
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return "\n".join(f"{formatter.format(r)}\n{vars(r)!r}" for r in records)


async def database_rows(engine: AsyncEngine) -> dict[str, str]:
    """Every row of every table outside the system schemas, by table."""
    found: dict[str, str] = {}
    async with engine.connect() as conn:
        tables = await conn.execute(
            text(
                "select table_schema, table_name from information_schema.tables where "
                "table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', "
                "'information_schema')"
            )
        )
        for schema, table in tables.all():
            rows = await conn.execute(text(f'select * from "{schema}"."{table}"'))
            found[f"{schema}.{table}"] = "\n".join(repr(tuple(row)) for row in rows.all())
    return found
