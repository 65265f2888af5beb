"""Least privilege in PostgreSQL (issue 11 item 5): migrations run as the schemas' owner, the
gateways and workers as a runtime role with DML only.

On the embedded server, with the runtime role `orderflow run` creates (conftest does the same
for the test template): it reads and writes rows in every orderflow schema, including tables a
later migration adds (default privileges), but cannot create, alter, drop or truncate a table
or create a schema. An order then starts and opens its first tasks with the gateway and the
workers on the runtime role alone. The URL helpers the runner and `orderflow migrate` use are
checked too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
from temporalio.testing import WorkflowEnvironment

from app.migrate import grant_statements, runtime_role_of
from app.schema import SCHEMAS
from shared.db import RUNTIME_ROLE, role_name, sync_url, user_of, with_user
from shared.settings import Settings
from tests.conftest import run_stack, settings_for
from tests.helpers import create_order, wait_task


@pytest.fixture
async def runtime(runtime_database_url: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(sync_url(runtime_database_url))
    yield connection
    await connection.close()


@pytest.fixture
async def owner(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(sync_url(database_url))
    yield connection
    await connection.close()


async def test_the_runtime_role_reads_and_writes_rows_in_every_schema(
    runtime: asyncpg.Connection,
) -> None:
    assert await runtime.fetchval("SELECT current_user") == RUNTIME_ROLE
    for schema in SCHEMAS:
        tables = await runtime.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = $1", schema
        )
        assert tables, f"no tables in {schema}"
        for row in tables:
            await runtime.fetchval(f'SELECT count(*) FROM {schema}."{row["tablename"]}"')
    async with runtime.transaction():
        await runtime.execute(
            "INSERT INTO escalation.escalations (key, kind, level, order_no, department, role,"
            " breached_at, message, state, created_at)"
            " VALUES ('k', 'task', 1, 'SO-1', 'sales', 'sales', now(), 'm', 'open', now())"
        )
        await runtime.execute("UPDATE escalation.escalations SET level = 2 WHERE key = 'k'")
        assert await runtime.fetchval("DELETE FROM escalation.escalations RETURNING level") == 2


@pytest.mark.parametrize(
    "statement",
    [
        "CREATE TABLE sales.intruder (id int)",
        "DROP TABLE sales.tasks",
        "ALTER TABLE sales.tasks ADD COLUMN intruder int",
        "TRUNCATE escalation.escalations",
        "CREATE INDEX intruder ON sales.tasks (title)",
        "CREATE SCHEMA intruder",
        "ALTER TABLE sales.tasks OWNER TO orderflow_app",
    ],
)
async def test_the_runtime_role_cannot_change_the_schema(
    runtime: asyncpg.Connection, statement: str
) -> None:
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await runtime.execute(statement)


async def test_tables_a_later_migration_adds_are_granted_by_default(
    owner: asyncpg.Connection, runtime: asyncpg.Connection
) -> None:
    await owner.execute("CREATE TABLE planning.later (id serial PRIMARY KEY, note text)")
    await runtime.execute("INSERT INTO planning.later (note) VALUES ('written by the runtime')")
    assert await runtime.fetchval("SELECT note FROM planning.later") == "written by the runtime"
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await runtime.execute("DROP TABLE planning.later")


async def test_an_order_starts_with_gateway_and_workers_on_the_runtime_role(
    base_settings: Settings, ts_env: WorkflowEnvironment, runtime_database_url: str
) -> None:
    settings = settings_for(base_settings, database_url=runtime_database_url)
    async with run_stack(settings, ts_env.client) as stack:
        order_no = await create_order(stack)
        await wait_task(stack, "engineering.contract_review", order_no)
        await wait_task(stack, "procurement.lead_time_review", order_no)


def test_urls_and_roles() -> None:
    owner = "postgresql://postgres:@/orderflow?host=/tmp/pg"
    runtime = with_user(owner, RUNTIME_ROLE, "pw")
    assert runtime == "postgresql://orderflow_app:pw@/orderflow?host=/tmp/pg"
    assert user_of(runtime) == RUNTIME_ROLE
    assert runtime_role_of(runtime, owner) == RUNTIME_ROLE
    assert runtime_role_of(owner, owner) is None  # one URL for both: nothing to grant
    external = "postgresql://orderflow_app:x@db:5432/orderflow"
    assert runtime_role_of(external, "postgresql://orderflow_owner:y@db:5432/orderflow") == (
        "orderflow_app"
    )
    with pytest.raises(ValueError, match="plain PostgreSQL role"):
        role_name('x"; DROP TABLE sales.tasks; --')
    statements = grant_statements("orderflow", RUNTIME_ROLE)
    assert not [s for s in statements if "ALL PRIVILEGES" in s or "CREATE" in s.split(" TO ")[0]]
