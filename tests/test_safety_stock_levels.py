"""Safety-stock levels kept by procurement (§4.5): the head sets them through
`PUT /procurement/items/{item}/safety-stock`, every change is kept, nobody else may set them,
and the next daily MRP run tops stock up to the level set (over the item master's default)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from services.engineering.models import Item
from tests.conftest import Stack
from tests.daily_mrp_drivers import (  # the stacks: a plant working every day
    _daily,
    _on_hand,
    every_day_flow,  # noqa: F401
    every_day_stack,  # noqa: F401
)


async def _items(engine: AsyncEngine, *levels: tuple[str, int]) -> None:
    """Bought items in engineering's master with their default safety stock."""
    async with engine.begin() as conn:
        for item, level in levels:
            await conn.execute(
                insert(Item).values(
                    item=item,
                    make_or_buy="buy",
                    supplier="Fastenal",
                    lead_days=7,
                    special=False,
                    safety_stock=Decimal(level),
                    first_order_no="SO-seed",
                    created_at=datetime.now(UTC),
                )
            )


async def test_the_head_sets_safety_stock_with_history_and_the_daily_run_uses_it(
    stack: Stack, engine: AsyncEngine
) -> None:
    suffix = uuid.uuid4().hex[:8]
    raised, dropped = f"TIE-{suffix}", f"FUSE-{suffix}"
    await _items(engine, (raised, 0), (dropped, 40))
    await _on_hand(engine, raised, 10)
    await _on_hand(engine, dropped, 10)
    path = f"/procurement/items/{raised}/safety-stock"
    head = stack.token("head-1", "head:procurement")

    start = await stack.http.get(path, headers=stack.token("mc-1", "procurement"))
    assert start.status_code == 200, start.text
    assert (start.json()["level"], start.json()["source"], start.json()["history"]) == (
        "0.0000",
        "item_master",
        [],
    )
    for role in ("procurement", "planning", "division"):
        refused = await stack.http.put(
            path, json={"level": 50}, headers=stack.token("someone", role)
        )
        assert refused.status_code == 403, (role, refused.text)
    missing = await stack.http.put(
        "/procurement/items/NO-SUCH-ITEM/safety-stock", json={"level": 5}, headers=head
    )
    assert missing.status_code == 404
    negative = await stack.http.put(path, json={"level": -1}, headers=head)
    assert negative.status_code == 422

    first = await stack.http.put(path, json={"level": 50, "reason": "new line"}, headers=head)
    assert first.status_code == 200, first.text
    second = await stack.http.put(path, json={"level": 30, "reason": "too much"}, headers=head)
    body = second.json()
    assert (body["level"], body["source"]) == ("30.0000", "procurement")
    history = [(h["previous"], h["level"], h["reason"], h["changed_by"]) for h in body["history"]]
    assert history == [
        ("0.0000", "50.0000", "new line", "head-1"),
        ("50.0000", "30.0000", "too much", "head-1"),
    ]
    # Procurement's 0 overrides engineering's 40: no safety stock for that item any more.
    zero = await stack.http.put(
        f"/procurement/items/{dropped}/safety-stock", json={"level": 0}, headers=head
    )
    assert zero.json()["history"][0]["previous"] == "40.0000"

    # The next daily MRP run tops stock up to the level set, and only where one is kept.
    run = await _daily(stack)
    bought = {r.item: r.qty for r in run.safety_stock.created}
    assert bought.get(raised) == Decimal(20) and dropped not in bought
