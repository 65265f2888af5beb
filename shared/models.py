"""Table helpers every department shares: the metadata, JSON and timestamp columns."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, DateTime, Numeric
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

metadata = SQLModel.metadata


def utcnow() -> datetime:
    return datetime.now(UTC)


def json_field(**kwargs: Any) -> Any:
    """A JSONB column holding a dict or list."""
    return Field(sa_column=Column(JSONB, nullable=False, **kwargs))


def ts_field(*, nullable: bool = False, index: bool = False) -> Any:
    """A timezone-aware timestamp column."""
    return Field(sa_column=Column(DateTime(timezone=True), nullable=nullable, index=index))


def qty_field(*, default: Decimal | None = None, server_default: str | None = None) -> Any:
    """A quantity column: exact to four decimals (Numeric(18, 4)), never null.

    `server_default` is for a column added to a table that already has rows.
    """
    column = Column(Numeric(18, 4), nullable=False, server_default=server_default)
    if default is None:
        return Field(sa_column=column)
    return Field(default=default, sa_column=column)
