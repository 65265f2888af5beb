"""Which failures are bad data: database errors told apart from transient ones, the driver's
own refusals, and date arithmetic that stops at the last day there is."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import column as column_
from sqlalchemy import insert, table, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.exceptions import ApplicationError

from shared.activity_errors import BAD_DATA, boundary_failure
from workflows.common import days_after, end_of_day


def test_database_errors_are_told_apart() -> None:
    class Driver(Exception):
        def __init__(self, sqlstate: str) -> None:
            super().__init__(f"driver error {sqlstate}")
            self.sqlstate = sqlstate

    def fail(sqlstate: str) -> Any:
        err = DBAPIError("INSERT INTO t VALUES ($1)", ("p" * 10_000,), Driver(sqlstate))
        return boundary_failure(err)

    for bad in ("22003", "22001", "22021", "22P05", "23502", "23514"):
        failure = fail(bad)
        assert failure.type == BAD_DATA and failure.non_retryable, bad
        assert "ppppp" not in failure.message and "INSERT INTO t" in failure.message
    for transient in ("40001", "40P01", "23505", "23503", "08006", "57P01"):
        failure = fail(transient)
        assert failure.type == "DBAPIError" and not failure.non_retryable, transient
    rule = boundary_failure(ValueError("qty_per must be positive"))
    lost = boundary_failure(ConnectionResetError("gone"))
    assert isinstance(rule, ApplicationError) and rule.type == BAD_DATA
    assert isinstance(lost, ApplicationError) and lost.type == "ConnectionResetError"


def test_date_arithmetic_stops_at_the_last_day_there_is() -> None:
    assert end_of_day(date(2026, 3, 1)).isoformat() == "2026-03-02T00:00:00+00:00"
    assert end_of_day(date.max).date() == date.max
    assert days_after(date(2026, 3, 1), 3) == date(2026, 3, 4)
    assert days_after(date(9999, 12, 30), 1) == date.max
    assert days_after(date(9999, 12, 1), 10**6) == date.max


async def test_real_driver_errors_of_bad_values_are_bad_data(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            text("CREATE TABLE probe_row (s varchar(4), n numeric(18,4), t text, j jsonb, i int)")
        )
    values: list[tuple[str, Any, str]] = [
        ("n", Decimal("1e15"), "numeric field overflow"),  # 22003
        ("s", "too long", "value too long"),  # 22001
        ("t", "a\x00b", "0x00"),  # 22021
        ("j", {"a": "\x00"}, "unsupported Unicode escape"),  # 22P05
        ("i", 10**12, "out of int32 range"),  # asyncpg's own check, before the server
    ]
    for column, value, expected in values:
        with pytest.raises(DBAPIError) as raised:
            async with engine.begin() as conn:
                await conn.execute(
                    insert(
                        table("probe_row", column_(column, JSONB if column == "j" else None))
                    ).values({column: value})
                )
        failure = boundary_failure(raised.value)
        assert isinstance(failure, ApplicationError), column
        assert failure.type == BAD_DATA and failure.non_retryable, (column, failure)
        assert expected in failure.message, (column, failure.message)
