# ruff: noqa: RUF001  (the Chinese messages use full-width punctuation)
"""Customer progress notices and the shipping check (issue 16, items 5), one order walked to
its shipment on the time-skipping server: a notice for the published plan and for each
milestone reached, on the timeline and delivered to the channels routed for
`customer_notice` (not to an escalations-only channel); `sales.ship` refused until a shipping
check of the delivery address and packaging has passed."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment

from shared.settings import Settings
from tests.bots import bot_settings, served, spec, tag, text_of, until
from tests.conftest import THRESHOLD, Stack, run_stack, settings_for
from tests.fakes.platforms import WebhookFake, WeComFake
from tests.helpers import MARGIN, advance_to, complete, complete_ok, wait_task
from tests.material_drivers import (
    DOCUMENTS,
    SHIPPING_CHECKED,
    production_start,
    to_production,
)

SHIP = {"carrier": "Deppon", "mode": "road", "tracking_no": "DP-16"}


def _notices(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The order's customer notices on its timeline, by key."""
    return {e["detail"]["key"]: e for e in view["timeline"] if e["kind"] == "customer_notice"}


async def _to_delivery(stack: Stack, ts_env: WorkflowEnvironment, order_no: str) -> None:
    """An order in production (`to_production`) assembled and through final inspection."""
    card = {"operations": [{"name": "frame assembly", "signed_by": "op-1"}]}
    await complete_ok(stack, "production.assembly", order_no, card)
    await complete_ok(stack, "production.hand_over_documents", order_no, DOCUMENTS)
    await complete_ok(stack, "production.submit_inspection", order_no, {"missing_parts": []})
    view = await complete_ok(stack, "quality.final_inspection", order_no, {"passed": True})
    assert view["stage"] == "delivery", view["stage"]


async def _check_before_shipping(stack: Stack, order_no: str) -> dict[str, Any]:
    """Ship refused without a check, and after a failed one; shipped after a passed one.
    Returns the view ship answered with."""
    first = await wait_task(stack, "sales.shipping_check", order_no)
    unchecked = await complete(stack, "sales.ship", order_no, SHIP)
    assert unchecked.status_code == 422, unchecked.text
    assert first["task_id"] in unchecked.json()["detail"]
    assert "shipping check" in unchecked.json()["detail"]
    # A failed check says why; ship stays refused, saying it, and a new check is opened.
    silent = await complete(
        stack, "sales.shipping_check", order_no, {**SHIPPING_CHECKED, "packaging_ok": False}
    )
    assert silent.status_code == 422 and "notes" in silent.text, silent.text
    failed = {**SHIPPING_CHECKED, "packaging_ok": False, "notes": "crate lid cracked"}
    await complete_ok(stack, "sales.shipping_check", order_no, failed)
    again = await wait_task(stack, "sales.shipping_check", order_no)
    assert again["context"]["attempt"] == 2
    assert again["context"]["previous_notes"] == "crate lid cracked"
    refused = await complete(stack, "sales.ship", order_no, SHIP)
    assert refused.status_code == 422 and "crate lid cracked" in refused.json()["detail"]
    await complete_ok(stack, "sales.shipping_check", order_no, SHIPPING_CHECKED)
    view = await complete_ok(stack, "sales.ship", order_no, SHIP)
    received = await wait_task(stack, "sales.delivery_confirmed", order_no)
    assert received["context"]["delivery_address"] == SHIPPING_CHECKED["delivery_address"]
    assert received["context"]["consignee"] == SHIPPING_CHECKED["consignee"]
    checks = [e for e in view["timeline"] if e["kind"] == "shipping_check"]
    assert [e["detail"]["packaging_ok"] for e in checks] == [False, True], checks
    return view


async def test_progress_notices_reach_the_routed_channels_and_ship_waits_for_its_check(
    base_settings: Settings, ts_env: WorkflowEnvironment, engine: AsyncEngine
) -> None:
    t = tag()
    # The WeCom group unpaced (the platform's 20 a minute would spread a dozen notices over
    # half a minute of real time; pacing is test_bots_delivery's).
    hook, wecom = WebhookFake(f"s{t}"), WeComFake(f"k{t}", limit_per_minute=0)
    escalations_only = WebhookFake(f"e{t}")
    async with served(hook, wecom, escalations_only) as (h, w, e):
        desk = hook.channel(h, name=f"sales-desk-{t}", lang="en")
        group = wecom.channel(w, name=f"sales-group-{t}", lang="zh", rate_per_minute=6000)
        ops = escalations_only.channel(e, name=f"ops-{t}", lang="en")
        routes: list[dict[str, object]] = [
            {"channels": [desk.name], "event": "customer_notice"},
            {"channels": [group.name], "event": "customer_notice", "department": "sales"},
            {"channels": [ops.name]},
        ]
        settings = bot_settings(
            base_settings, [desk, group, ops], routes, approval_threshold=THRESHOLD
        )
        async with run_stack(settings, ts_env.client) as stack:
            order_no, view = await to_production(stack, ts_env, t)
            await advance_to(ts_env, production_start(view) + MARGIN)
            await wait_task(stack, "production.assembly", order_no)
            await _to_delivery(stack, ts_env, order_no)
            view = await _check_before_shipping(stack, order_no)
            notices = _notices(view)

            async def all_delivered() -> bool:
                mine = [s for s in hook.accepted if s.body.get("order_no") == order_no]
                return len(mine) >= len(notices) and len(wecom.accepted) >= len(notices)

            await until("every notice delivered to both routed channels", all_delivered)

    # The published plan and every milestone reached, each once, in the desk's timeline.
    assert "plan_revision-r1" in notices
    reached = {k.removeprefix("milestone-") for k in notices if k.startswith("milestone-")}
    assert {"bom_release", "production_start", "final_inspection", "ship"} <= reached, reached
    shipped = notices["milestone-ship"]
    assert shipped["detail"]["actual"] == view_actual(view, "ship")
    assert "reached ship" in shipped["summary"]
    plan = notices["plan_revision-r1"]["detail"]
    assert plan["revision"] == 1 and plan["milestones"]["ship"] == view_planned(view, "ship")
    # The webhook got each notice once, as its event, with the order's link.
    bodies = [s.body for s in hook.accepted if s.body.get("order_no") == order_no]
    assert sorted(b["key"] for b in bodies) == sorted(notices)
    assert all(b["order_url"].endswith(f"/orders/{order_no}") for b in bodies)
    assert {s.headers.get("x-orderflow-event") for s in hook.accepted} == {"customer_notice"}
    # The Chinese group reads them in Chinese.
    texts = [text_of(s) for s in wecom.accepted]
    assert any(f"客户进度通知：{order_no} 发货" in text for text in texts), texts
    assert any(f"{order_no} 计划第1版" in text for text in texts), texts
    # A channel routed for escalations only gets no notice.
    assert not [s for s in escalations_only.accepted if "customer_notice" in str(s.body)]


def test_notices_go_only_where_a_route_names_them(base_settings: Settings) -> None:
    channel = WebhookFake("s").channel("http://127.0.0.1:9", name="all")
    everything = settings_for(base_settings, channels=json.dumps([spec(channel)]))
    book = everything.channel_book()
    assert book.for_event("plan_report") == ["all"]
    assert book.for_event("customer_notice") == []
    routed = bot_settings(
        base_settings, [channel], [{"channels": ["all"], "event": "customer_notice"}]
    )
    assert routed.channel_book().for_event("customer_notice", department="sales") == ["all"]


def view_actual(view: dict[str, Any], name: str) -> str:
    return str(next(m["actual"] for m in view["milestones"] if m["name"] == name))


def view_planned(view: dict[str, Any], name: str) -> str:
    return str(next(m["planned"] for m in view["milestones"] if m["name"] == name))
