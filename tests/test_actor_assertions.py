"""The Temporal boundary (issue 11 item 2): an update's `by` and `roles` count only with the
gateway's signed assertion (shared/actor.py).

Against a running order on the time-skipping server: each of `complete_task`, `cancel`,
`change` and `report_issue` sent by a bare Temporal client (no gateway) is refused as
`Unauthenticated`, and so are a tampered roles list, an expired assertion and one made for
another task or another workflow; nothing of the order moved. The gateway's own updates, and a
test client signing with the workers' key, pass. The pure check is tested alone too, and every
update of every workflow that takes an actor verifies it in its validator.
"""

from __future__ import annotations

import inspect
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import temporalio.workflow
from pydantic import BaseModel, SecretStr, ValidationError
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from app.worker import WORKFLOWS
from shared.actor import LIFETIME, AssertionRefused, check, sign
from shared.change_types import CustomerChange
from shared.production_types import CancelOrder, ReportIssue
from shared.rejections import Rejection
from shared.settings import Settings
from shared.types import CompleteTask
from shared.updates import ANSWERS, rejection_of
from tests.conftest import Stack
from tests.helpers import complete_ok, create_order, signed_client, wait_task
from workflows.base import TaskWorkflow
from workflows.clients import order_handle, task_handle
from workflows.order import OrderWorkflow

KEY = b"k" * 32
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def _completion(task_id: str = "T-1", roles: list[str] | None = None) -> CompleteTask:
    return CompleteTask(
        task_id=task_id, payload={"ok": True}, by="eve", roles=roles or ["engineering"]
    )


def _signed(arg: BaseModel, *, wf: str = "order-SO-1", now: datetime = NOW) -> Any:
    token = sign(KEY, workflow_id=wf, update="complete_task", arg=arg, now=now)
    return arg.model_copy(update={"assertion": token})


def _check(arg: BaseModel, *, wf: str = "order-SO-1", now: datetime = NOW) -> None:
    check(
        KEY,
        getattr(arg, "assertion", None),
        workflow_id=wf,
        update="complete_task",
        arg=arg,
        now=now,
    )


# -- the pure check ------------------------------------------------------------------------


def test_a_fresh_assertion_for_this_update_passes() -> None:
    _check(_signed(_completion()))
    # After a JSON round trip, as the worker receives it.
    sent = _signed(_completion())
    _check(CompleteTask.model_validate_json(sent.model_dump_json()))


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"roles": ["admin", "engineering"]}, "roles"),
        ({"by": "mallory"}, "actor"),
        ({"task_id": "T-2"}, "argument"),
        ({"payload": {"ok": False}}, "argument"),
        ({"assertion": None}, "no actor assertion"),
        ({"assertion": "e30.AAAA"}, "signature"),
    ],
)
def test_a_tampered_command_is_refused(change: dict[str, Any], why: str) -> None:
    tampered = _signed(_completion()).model_copy(update=change)
    with pytest.raises(AssertionRefused, match=why):
        _check(tampered)


def test_an_assertion_for_another_workflow_or_update_is_refused() -> None:
    with pytest.raises(AssertionRefused, match="another workflow"):
        _check(_signed(_completion()), wf="order-SO-2")
    cancel = CancelOrder(reason="r", by="eve")
    token = sign(KEY, workflow_id="order-SO-1", update="cancel", arg=cancel, now=NOW)
    with pytest.raises(AssertionRefused, match="another workflow or update"):
        check(
            KEY,
            token,
            workflow_id="order-SO-1",
            update="change",
            arg=cancel.model_copy(update={"assertion": token}),
            now=NOW,
        )


def test_expiry_future_and_foreign_key_are_refused() -> None:
    signed = _signed(_completion())
    _check(signed, now=NOW + LIFETIME - timedelta(seconds=1))
    with pytest.raises(AssertionRefused, match="expired"):
        _check(signed, now=NOW + LIFETIME)
    with pytest.raises(AssertionRefused, match="future"):
        _check(signed, now=NOW - timedelta(minutes=10))
    with pytest.raises(AssertionRefused, match="signature"):
        check(
            b"x" * 32,
            signed.assertion,
            workflow_id="order-SO-1",
            update="complete_task",
            arg=signed,
            now=NOW,
        )


def test_every_update_taking_an_actor_verifies_it_in_its_validator() -> None:
    checked = set()
    for cls in WORKFLOWS:
        for name, update in temporalio.workflow._Definition.must_from_class(cls).updates.items():
            arg = update.arg_types[0] if update.arg_types else None
            if not (isinstance(arg, type) and issubclass(arg, BaseModel)):
                continue
            if "by" not in arg.model_fields and "roles" not in arg.model_fields:
                continue
            assert "assertion" in arg.model_fields, f"{arg.__name__} carries no assertion"
            assert update.validator is not None, f"{cls.__name__}.{name} has no validator"
            assert f'verify_actor(cmd, "{name}")' in inspect.getsource(update.validator)
            checked.add(name)
    assert checked == {
        "complete_task",
        "cancel",
        "change",
        "report_issue",
        "warn_delay",
        "move_promise",
    }


# -- settings and the API answer -------------------------------------------------------------


def test_the_actor_key_is_required_in_prod_and_32_bytes(tmp_path: Path) -> None:
    prod: dict[str, Any] = {
        "env": "prod",
        "jwt_key": "j" * 32,
        "webhook_secret": "w" * 16,
        "temporal_address": "temporal:7233",
        "database_url": "postgresql://x@db/orderflow",
    }
    with pytest.raises(ValidationError, match="ORDERFLOW_ACTOR_KEY"):
        Settings(**prod)
    with pytest.raises(ValidationError, match="at least 32 bytes"):
        Settings(**prod, actor_key=SecretStr("short"))
    settings = Settings(**prod, actor_key=SecretStr("a" * 32))
    assert settings.actor_signing_key() == b"a" * 32
    assert "a" * 32 not in repr(settings)
    # In dev the key is made once under ORDERFLOW_HOME, readable by its owner only.
    dev = Settings(home=tmp_path)
    assert len(dev.actor_signing_key()) >= 32
    assert dev.actor_signing_key() == Settings(home=tmp_path).actor_signing_key()
    mode = stat.S_IMODE(os.stat(tmp_path / "actor.key").st_mode)
    assert mode == 0o600


def test_an_unauthenticated_update_answers_403() -> None:
    error = ANSWERS[Rejection.UNAUTHENTICATED]("no assertion", "invalid_payload")
    assert error.status == 403


# -- against a running order ------------------------------------------------------------------


async def _refused(client: Client, workflow_id: str, update: str, arg: BaseModel) -> str:
    """Send `update(arg)` with `client`; the refusal's message (it must be Unauthenticated)."""
    handle = client.get_workflow_handle(workflow_id)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(update, arg)
    found = rejection_of(refused.value.cause)
    assert found is not None, refused.value.cause
    rejection, cause = found
    assert rejection is Rejection.UNAUTHENTICATED, cause.message
    return cause.message


async def test_forged_updates_are_refused_and_the_gateways_pass(
    flow: Stack, ts_env: WorkflowEnvironment
) -> None:
    order_no = await create_order(flow)
    review = await wait_task(flow, "engineering.contract_review", order_no)
    lead = await wait_task(flow, "procurement.lead_time_review", order_no)
    workflow_id = review["workflow_id"]
    assert workflow_id == order_handle(flow.client, order_no).id
    bare = flow.client  # the test server's client: no gateway, no key

    # (1) A bare client, for each of the four updates.
    forged_completion = CompleteTask(
        task_id=review["task_id"],
        payload={"ok": True, "design_days": 10, "issues": []},
        by="mallory",
        roles=["admin", "engineering"],
    )
    assert "no actor assertion" in await _refused(
        bare, workflow_id, "complete_task", forged_completion
    )
    await _refused(bare, workflow_id, "cancel", CancelOrder(reason="forged", by="mallory"))
    await _refused(
        bare,
        workflow_id,
        "change",
        CustomerChange(
            kind="date",
            detail="forged",
            customer_confirmation_ref="none",
            new_date=(datetime.now(UTC) + timedelta(days=200)).date(),
            by="mallory",
        ),
    )
    await _refused(
        bare,
        workflow_id,
        "report_issue",
        ReportIssue(kind="design_problem", description="forged", by="mallory"),
    )

    # (2) Assertions made by the real key but tampered with or misdirected.
    key = flow.settings.actor_signing_key()
    now = await ts_env.get_current_time()
    honest = CompleteTask(
        task_id=review["task_id"],
        payload={"ok": True, "design_days": 10, "issues": []},
        by="eve",
        roles=["procurement"],
    )

    def signed(arg: CompleteTask, *, wf: str = workflow_id, at: datetime = now) -> CompleteTask:
        token = sign(key, workflow_id=wf, update="complete_task", arg=arg, now=at)
        return arg.model_copy(update={"assertion": token})

    tampered = signed(honest).model_copy(update={"roles": ["admin", "engineering"]})
    assert "other roles" in await _refused(bare, workflow_id, "complete_task", tampered)
    expired = signed(honest.model_copy(update={"roles": ["engineering"]}), at=now - LIFETIME * 2)
    assert "expired" in await _refused(bare, workflow_id, "complete_task", expired)
    other_task = signed(honest.model_copy(update={"task_id": lead["task_id"]})).model_copy(
        update={"task_id": review["task_id"]}
    )
    assert "another argument" in await _refused(bare, workflow_id, "complete_task", other_task)
    other_workflow = signed(
        honest.model_copy(update={"roles": ["engineering"]}), wf="order-SO-elsewhere"
    )
    assert "another workflow" in await _refused(bare, workflow_id, "complete_task", other_workflow)

    # Nothing of the order moved: both reviews are still open, the order still active.
    assert (await wait_task(flow, "engineering.contract_review", order_no))["task_id"] == (
        review["task_id"]
    )
    state = await order_handle(flow.client, order_no).query(OrderWorkflow.where)
    assert state["status"] == "active"

    # (3) The gateway's own updates pass, and so does a client signing with the workers' key.
    await complete_ok(
        flow,
        "procurement.lead_time_review",
        order_no,
        {"lead_days": 30, "critical_items": ["VS1 breaker"]},
    )
    done = await task_handle(signed_client(flow), workflow_id).execute_update(
        TaskWorkflow.complete_task,
        CompleteTask(
            task_id=review["task_id"],
            payload={"ok": True, "design_days": 10, "issues": []},
            by="eve",
            roles=["engineering"],
        ),
    )
    assert done.task_id == review["task_id"]
    cancelled = await flow.http.post(
        f"/sales/orders/{order_no}/cancel",
        json={"reason": "customer withdrew"},
        headers=flow.token("sam", "sales"),
    )
    assert cancelled.status_code == 200, cancelled.text
