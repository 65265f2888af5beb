"""Migration 0014 on a database that delivered to bare URLs before channels: the deliveries are
kept as rows of `legacy-<digest>` channels, and no URL's path, query or password (where the
Slack, Feishu, DingTalk and WeCom tokens are) stays in a row."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime

import asyncpg
from alembic import command

from app.migrate import alembic_config

SLACK = "https://hooks.slack.com/services/T0/B0/SlackPathToken77"
BOT = "http://bot:Passw0rd77@10.0.0.5:8080/hook?token=QueryToken77"
SECRETS = ("SlackPathToken77", "Passw0rd77", "QueryToken77", "/services/", "/hook?", "bot:")


async def _rows(connection: asyncpg.Connection, query: str) -> list[asyncpg.Record]:
    return list(await connection.fetch(query))


async def test_legacy_deliveries_are_kept_as_channel_rows_without_their_urls(
    database_url: str,
) -> None:
    config = alembic_config(database_url)
    await asyncio.to_thread(command.downgrade, config, "0013")
    url = database_url.replace("postgresql+asyncpg://", "postgresql://")
    now = datetime.now(UTC)
    connection = await asyncpg.connect(url)
    try:
        esc_id = await connection.fetchval(
            "INSERT INTO escalation.escalations (key, kind, level, order_no, department, role, "
            "breached_at, message, state, created_at) VALUES ('k1', 'task_overdue', 1, 'SO-1', "
            "'quality', 'head:quality', $1, 'late', 'open', $1) RETURNING id",
            now,
        )
        await connection.execute(
            "INSERT INTO escalation.escalations (key, kind, level, order_no, department, role, "
            "breached_at, message, state, created_at) VALUES ('k2', 'delivery_failed', 1, "
            "'SO-1', 'quality', 'ops', $1, $2, 'open', $1)",
            now,
            f"escalation 1 (task_overdue) to {SLACK} failed after 20 attempt(s): 500",
        )
        for target, state in ((SLACK, "failed"), (BOT, "delivered")):
            await connection.execute(
                "INSERT INTO escalation.deliveries (escalation_id, url, attempts, last_status, "
                "last_error, delivered_at, delivery_id, state) VALUES ($1, $2, 3, 500, $3, $4, "
                "$5, $6)",
                esc_id,
                target,
                f"ConnectError: cannot reach {target}",
                now if state == "delivered" else None,
                f"esc_{esc_id}_{hashlib.sha256(target.encode()).hexdigest()[:16]}",
                state,
            )
            await connection.execute(
                "INSERT INTO escalation.delivery_attempts (delivery_id, target, attempt, status, "
                "error, started_at) VALUES ($1, $2, 1, NULL, $3, $4)",
                f"esc_{esc_id}_{len(target)}",
                target,
                f"ConnectError: cannot reach {target}",
                now,
            )
    finally:
        await connection.close()

    await asyncio.to_thread(command.upgrade, config, "head")

    connection = await asyncpg.connect(url)
    try:
        deliveries = await _rows(
            connection,
            "SELECT channel, state, attempts, failures, last_error, delivered_at "
            "FROM escalation.channel_deliveries ORDER BY state",
        )
        attempts = await _rows(connection, "SELECT target, error FROM escalation.delivery_attempts")
        messages = await _rows(connection, "SELECT message FROM escalation.escalations")
    finally:
        await connection.close()
    digests = {f"legacy-{hashlib.md5(u.encode()).hexdigest()[:8]}" for u in (SLACK, BOT)}
    assert {row["channel"] for row in deliveries} == digests
    assert [(row["state"], row["attempts"]) for row in deliveries] == [
        ("delivered", 3),
        ("failed", 3),
    ]
    assert sorted(row["target"] for row in attempts) == [
        "http://10.0.0.5:8080/***",
        "https://hooks.slack.com/***",
    ]
    kept = [
        *(row["last_error"] for row in deliveries),
        *(row["error"] for row in attempts),
        *(row["message"] for row in messages),
    ]
    assert "https://hooks.slack.com/*** failed after 20 attempt(s): 500" in " ".join(kept)
    for text in kept:
        assert not any(secret in text for secret in SECRETS), text
