"""The escalations board: open escalations by level with their age, acknowledged from the desk
by the role they were raised to; anyone else sees no button and, posting anyway, the API's
sentence."""

from __future__ import annotations

from temporalio.testing import WorkflowEnvironment

from app.desk.i18n import MESSAGES
from tests.conftest import Stack
from tests.desk.desk_client import desk
from tests.helpers import MARGIN, advance_to, create_order, parse_time, wait_escalation, wait_task

EN = MESSAGES["en"]
REVIEW = "engineering.contract_review"


async def test_the_board_lists_an_escalation_and_only_its_role_acknowledges_it(
    stack: Stack, ts_env: WorkflowEnvironment
) -> None:
    order_no = await create_order(stack)
    task = await wait_task(stack, REVIEW, order_no)
    await advance_to(ts_env, parse_time(task["due_at"]) + MARGIN)
    esc = await wait_escalation(
        stack, order_no, lambda e: e["task_id"] == task["task_id"] and e["level"] == 1
    )
    assert esc["role"] == "head:engineering"
    action = f'action="/desk/escalations/{esc["id"]}/ack"'

    async with desk(stack, "olga", "ops") as (http, csrf):
        board = await http.get("/desk/escalations", params={"order_no": order_no})
        assert board.status_code == 200, board.text
        assert f'id="esc-{esc["id"]}"' in board.text
        assert EN["esc.task_overdue"] in board.text
        assert EN["esc_board.level"].format(level=1) in board.text
        assert f'href="/desk/orders/{order_no}"' in board.text
        assert action not in board.text  # ops is not the escalated role: no button
        assert EN["esc_board.ack_by"].format(role="head:engineering") in board.text

        refused = await http.post(
            f"/desk/escalations/{esc['id']}/ack", data={"csrf": csrf, "order_no": order_no}
        )
        assert refused.status_code == 403
        assert "acknowledging an escalation raised to head:engineering" in refused.text

        forged = await http.post(f"/desk/escalations/{esc['id']}/ack", data={"csrf": "x"})
        assert forged.status_code == 403 and EN["error.csrf"] in forged.text

    async with desk(stack, "hana", "head:engineering") as (http, csrf):
        board = await http.get("/desk/escalations", params={"order_no": order_no})
        assert action in board.text
        acked = await http.post(
            f"/desk/escalations/{esc['id']}/ack",
            data={"csrf": csrf, "order_no": order_no},
            follow_redirects=True,
        )
        assert acked.status_code == 200, acked.text
        assert EN["esc_board.acked"].format(id=esc["id"]) in acked.text
        assert f'id="esc-{esc["id"]}"' not in acked.text  # no longer open

        again = await http.post(f"/desk/escalations/{esc['id']}/ack", data={"csrf": csrf})
        assert again.status_code == 409 and "was acknowledged by hana" in again.text

    listed = await stack.http.get(
        "/escalations",
        params={"order_no": order_no, "state": "acked"},
        headers=stack.token("ops-bot", "ops"),
    )
    assert [(e["id"], e["acked_by"]) for e in listed.json()] == [(esc["id"], "hana")]
