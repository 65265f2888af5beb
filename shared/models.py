"""Table helpers every department shares: the metadata, JSON and timestamp columns."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, DateTime
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
