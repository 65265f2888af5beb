"""An escalation closed with what was done about it (`POST /escalations/{id}/resolve`): only
the escalated role or admin, a resolution that says something, once; `GET /escalations` and the
order's timeline show who resolved it and how.

Real escalations: a contract review left past its SLA is raised to the engineering head (level
1), then to the division (level 2), by the time-skipping Temporal test server.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio.testing import WorkflowEnvironment

from shared.settings import Settings
from tests.conftest import Stack, run_stack, settings_for
from tests.helpers import (
    MARGIN,
    advance_to,
    create_order,
    parse_time,
    wait_escalation,
    wait_task,
)
from tests.material_drivers import order_view

REVIEW = "engineering.contract_review"


def sla_settings(base: Settings) -> Settings:
    return settings_for(base, task_slas={"engineering_contract_review": timedelta(hours=2)})


async def raised(stack: Stack, ts_env: WorkflowEnvironment, level: int) -> dict[str, Any]:
    """A new order's contract review escalation of `level`, once the clock breached it."""
    order_no = await create_order(stack)
    task = await wait_task(stack, REVIEW, order_no)
    due_at = parse_time(task["due_at"])
    # Level n breaches at n times the SLA after the task opened.
    sla = due_at - parse_time(task["created_at"])
    await advance_to(ts_env, due_at + (level - 1) * sla + MARGIN)
    return await wait_escalation(
        stack, order_no, lambda e: e["task_id"] == task["task_id"] and e["level"] == level
    )


async def listed(stack: Stack, order_no: str, state: str) -> list[dict[str, Any]]:
    response = await stack.http.get(
        "/escalations",
        params={"order_no": order_no, "state": state},
        headers=stack.token("ops-bot", "ops"),
    )
    assert response.status_code == 200, response.text
    return list(response.json())


async def test_escalated_role_resolves_an_open_escalation_once_and_the_order_shows_it(
    base_settings: Settings, ts_env: WorkflowEnvironment
) -> None:
    async with run_stack(sla_settings(base_settings), ts_env.client) as stack:
        esc = await raised(stack, ts_env, 1)
        order_no = esc["order_no"]
        assert esc["role"] == "head:engineering" and esc["state"] == "open"
        assert (esc["resolution"], esc["resolved_by"], esc["resolved_at"]) == (None, None, None)
        resolve = f"/escalations/{esc['id']}/resolve"
        head = stack.token("hana", "head:engineering")
        fixed = {"resolution": "  Reviewed the contract with sales; design days agreed.  "}

        for wrong in (("engineering",), ("head:procurement",), ("division",), ("ops",)):
            refused = await stack.http.post(resolve, json=fixed, headers=stack.token("x", *wrong))
            assert refused.status_code == 403, (wrong, refused.text)
        assert (await stack.http.post(resolve, json=fixed)).status_code == 401

        # A resolution must say what was done.
        for body in ({}, {"resolution": ""}, {"resolution": " \t "}, {"resolution": "x" * 2001}):
            bad = await stack.http.post(resolve, json=body, headers=head)
            assert bad.status_code == 422, (body, bad.text)
            assert "resolution" in bad.json()["detail"], bad.text
        assert (await listed(stack, order_no, "open"))[0]["id"] == esc["id"]

        done = await stack.http.post(resolve, json=fixed, headers=head)
        assert done.status_code == 200, done.text
        body = done.json()
        assert body["state"] == "resolved"
        assert body["resolution"] == "Reviewed the contract with sales; design days agreed."
        assert body["resolved_by"] == "hana"
        # Open until now: acknowledged by the same person at the same moment.
        assert body["acked_by"] == "hana"
        assert body["acked_at"] == body["resolved_at"] is not None

        again = await stack.http.post(
            resolve, json={"resolution": "again"}, headers=stack.token("ada", "admin")
        )
        assert again.status_code == 409, again.text
        assert again.json()["error"] == "already_resolved"
        assert "resolved by hana" in again.json()["detail"]
        ack = await stack.http.post(f"/escalations/{esc['id']}/ack", headers=head)
        assert ack.status_code == 409 and ack.json()["error"] == "already_acked", ack.text

        [shown] = await listed(stack, order_no, "resolved")
        assert shown["id"] == esc["id"]
        assert {k: shown[k] for k in ("resolution", "resolved_by", "resolved_at")} == {
            k: body[k] for k in ("resolution", "resolved_by", "resolved_at")
        }
        assert await listed(stack, order_no, "open") == []
        assert await listed(stack, order_no, "acked") == []

        view = await order_view(stack, order_no)
        [event] = [e for e in view["timeline"] if e["kind"] == "escalation_resolved"]
        assert event["actor"] == "hana"
        assert "design days agreed" in event["summary"]
        assert "head:engineering" in event["summary"]
        assert event["detail"]["escalation_id"] == esc["id"]


async def test_admin_resolves_an_acknowledged_escalation_keeping_who_acknowledged_it(
    base_settings: Settings, ts_env: WorkflowEnvironment
) -> None:
    async with run_stack(sla_settings(base_settings), ts_env.client) as stack:
        esc = await raised(stack, ts_env, 2)
        assert esc["role"] == "division"
        acked = await stack.http.post(
            f"/escalations/{esc['id']}/ack", headers=stack.token("dora", "division")
        )
        assert acked.status_code == 200, acked.text

        done = await stack.http.post(
            f"/escalations/{esc['id']}/resolve",
            json={"resolution": "Engineering got a second reviewer."},
            headers=stack.token("ada", "admin"),
        )
        assert done.status_code == 200, done.text
        body = done.json()
        assert body["state"] == "resolved" and body["resolved_by"] == "ada"
        assert body["acked_by"] == "dora"
        assert body["acked_at"] == acked.json()["acked_at"] != body["resolved_at"]
        [shown] = await listed(stack, esc["order_no"], "resolved")
        assert shown["id"] == esc["id"] and shown["resolution"] == body["resolution"]
        view = await order_view(stack, esc["order_no"])
        [event] = [e for e in view["timeline"] if e["kind"] == "escalation_resolved"]
        assert event["actor"] == "ada" and "second reviewer" in event["summary"]


async def test_resolving_an_unknown_escalation_is_404(
    base_settings: Settings, ts_env: WorkflowEnvironment
) -> None:
    async with run_stack(base_settings, ts_env.client) as stack:
        missing = await stack.http.post(
            "/escalations/999999999/resolve",
            json={"resolution": "nothing to resolve"},
            headers=stack.token("ada", "admin"),
        )
        assert missing.status_code == 404, missing.text
