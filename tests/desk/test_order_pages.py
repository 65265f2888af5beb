"""The order pages at the desk: the list with its filters, and one order's page (stage bar, the
master plan as an SVG Gantt with every revision, open task links, the Temporal Web UI link)
whose sections refresh from a fragment that answers 304 while its ETag holds."""

from __future__ import annotations

import re

from temporalio.testing import WorkflowEnvironment

from app.desk.charts import gantt
from app.desk.i18n import MESSAGES
from shared.payloads import MILESTONES
from tests.conftest import Stack
from tests.desk.desk_client import desk
from tests.drivers import (
    plan_history,
    propose_and_plan_date,
    technical_and_lead_time,
    to_master_plan,
)
from tests.helpers import complete_ok, create_order, wait_task
from tests.issue_drivers import _in_assembly, _report_ok

EN = MESSAGES["en"]


async def test_the_order_page_shows_stage_plan_gantt_tasks_and_the_workflow_link(
    stack: Stack,
) -> None:
    order_no = await create_order(stack)
    await to_master_plan(stack, order_no)
    await complete_ok(stack, "planning.master_plan", order_no, {"accept_proposal": True})
    bom = await wait_task(stack, "engineering.release_bom", order_no)
    history = await plan_history(stack, order_no)
    assert history["current_revision"] == 1

    async with desk(stack, "pat", "planning") as (http, _):
        listed = await http.get("/desk/orders", params={"stage": "engineering"})
        assert listed.status_code == 200, listed.text
        assert f'href="/desk/orders/{order_no}"' in listed.text
        none = await http.get("/desk/orders", params={"stage": "closed"})
        assert none.status_code == 200 and f"/desk/orders/{order_no}" not in none.text
        assert EN["orders.none"] in none.text
        on_time = await http.get("/desk/orders", params={"late": "false", "customer": "Huadian"})
        assert f'href="/desk/orders/{order_no}"' in on_time.text
        late = await http.get("/desk/orders", params={"late": "true"})
        assert f'href="/desk/orders/{order_no}"' not in late.text
        bad = await http.get("/desk/orders", params={"stage": "nowhere"})
        assert bad.status_code == 422 and "stage must be one of" in bad.text

        page = await http.get(f"/desk/orders/{order_no}")
        assert page.status_code == 200, page.text
        html = page.text
        # The stage bar: all ten stages, engineering current, review and planning behind it.
        bar = html[html.index('<ol class="stages">') : html.index("</ol>")]
        assert bar.count("<li") == 10
        assert re.search(r'class="current" aria-current="step">Engineering<', bar)
        assert re.search(r'class="done">Contract review<', bar)
        # The Gantt: one row per milestone of revision 1, with its planned date.
        svg = html[html.index('<svg class="gantt"') : html.index("</svg>")]
        milestones = history["revisions"][0]["milestones"]
        for name, dates in milestones.items():
            assert f'data-milestone="{name}"' in svg
            assert f"{EN['order.planned']} {dates['planned']}" in svg
        assert "?revision=1" in html and 'aria-current="page"' in html
        # The open task links to its form, the workflow to the Temporal Web UI.
        assert f'href="/desk/tasks/engineering/{bom["task_id"]}"' in html
        ui = f"http://127.0.0.1:{stack.settings.temporal_ui_port}"
        assert f'href="{ui}/namespaces/default/workflows/order-{order_no}"' in html
        # Planning may not read the lot trace: the section says who may.
        assert "reading traceability needs one of the roles quality, ops" in html
        assert 'hx-trigger="every 15s"' in html

        unknown = await http.get("/desk/orders/NO-SUCH-ORDER")
        assert unknown.status_code == 404 and "NO-SUCH-ORDER" in unknown.text

    async with desk(stack, "zhang", "quality", lang="zh-CN") as (http, _):
        page = await http.get(f"/desk/orders/{order_no}")
        assert page.status_code == 200
        assert MESSAGES["zh"]["stage.engineering"] in page.text
        # Quality reads the lot trace: nothing picked yet, so nothing untraceable.
        assert MESSAGES["zh"]["trace.complete"] in page.text
        assert "reading traceability needs" not in page.text


async def test_the_live_fragment_answers_304_until_the_order_changes(stack: Stack) -> None:
    order_no = await create_order(stack)
    review = await wait_task(stack, "engineering.contract_review", order_no)
    async with desk(stack, "olga", "ops") as (http, _):
        live = await http.get(f"/desk/orders/{order_no}/live")
        assert live.status_code == 200, live.text
        assert live.text.startswith('<div id="order-live"')
        etag = live.headers["etag"]
        assert "no-cache" in live.headers["cache-control"]
        same = await http.get(f"/desk/orders/{order_no}/live", headers={"If-None-Match": etag})
        assert same.status_code == 304 and same.content == b""

        await complete_ok(
            stack,
            "engineering.contract_review",
            order_no,
            {"ok": True, "design_days": 10, "issues": []},
        )
        changed = await http.get(f"/desk/orders/{order_no}/live", headers={"If-None-Match": etag})
        assert changed.status_code == 200 and changed.headers["etag"] != etag
        assert f"/desk/tasks/engineering/{review['task_id']}" not in changed.text

        # An order the API does not know: the fragment says so and keeps polling.
        gone = await http.get("/desk/orders/NO-SUCH-ORDER/live")
        assert gone.status_code == 200 and 'class="error"' in gone.text
        assert 'hx-get="/desk/orders/NO-SUCH-ORDER/live"' in gone.text


async def test_a_declined_order_shows_where_it_ended_and_why(stack: Stack) -> None:
    order_no = await create_order(stack)
    await technical_and_lead_time(stack, order_no)
    await propose_and_plan_date(stack, order_no)
    await complete_ok(
        stack,
        "sales.confirm_delivery",
        order_no,
        {"accepted": False, "decline": True, "reason": "project postponed"},
    )
    async with desk(stack, "sam", "sales") as (http, _):
        page = await http.get(f"/desk/orders/{order_no}")
        assert page.status_code == 200, page.text
        bar = page.text[page.text.index('<ol class="stages">') : page.text.index("</ol>")]
        assert bar.count("<li") == 11  # the ten stages, and where it ended
        assert re.search(r'class="done">Contract review<', bar)
        assert re.search(r'class="ended current" aria-current="step">Declined<', bar)
        assert "project postponed" in page.text
        assert EN["order.no_plan"] in page.text and EN["order.open_tasks"] in page.text
        declined = await http.get("/desk/orders", params={"status": "declined"})
        assert f'href="/desk/orders/{order_no}"' in declined.text


async def test_an_order_in_assembly_shows_its_materials_lots_and_issues(
    flow: Stack, ts_env: WorkflowEnvironment
) -> None:
    order_no, suffix = await _in_assembly(flow, ts_env)
    await _report_ok(
        flow,
        order_no,
        {
            "kind": "missing_part",
            "description": "gasket retainer missing",
            "items": [{"item": f"RETAINER-{suffix}", "qty": 6}],
        },
    )
    async with desk(flow, "olga", "ops") as (http, _):
        page = await http.get(f"/desk/orders/{order_no}")
        assert page.status_code == 200, page.text
        html = page.text
        materials = html[html.index('id="h-materials"') : html.index('id="h-issues"')]
        assert f"BOLT-{suffix}" in materials and f"VS1-{suffix}" in materials
        issues = html[html.index('id="h-issues"') : html.index('id="h-changes"')]
        assert EN["issue_kind.missing_part"] in issues and "gasket retainer missing" in issues
        assert EN["issue_state.open"] in issues
        trace = html[html.index('id="h-trace"') : html.index('id="h-timeline"')]
        assert EN["trace.complete"] in trace
        assert trace.count(f"VS1-{suffix}") == 1  # one row per lot, the item named once
        assert re.search(r"<td>PO-[^<]+</td>", trace), trace
        bar = html[html.index('<ol class="stages">') : html.index("</ol>")]
        assert re.search(r'class="current" aria-current="step">Production<', bar)


def test_the_gantt_places_planned_forecast_and_actual_on_one_axis() -> None:
    from datetime import date

    chart = gantt(
        {
            "ship": {"planned": "2027-03-01", "forecast": "2027-03-05", "actual": None},
            "design_done": {
                "planned": "2027-01-10",
                "forecast": "2027-01-10",
                "actual": "2027-01-09",
            },
        },
        date(2027, 1, 20),
        MILESTONES,
    )
    assert chart is not None
    first, last = chart.rows
    assert (first.name, last.name) == ("design_done", "ship")  # the plan's order
    assert first.actual_x is not None and first.actual_x < first.planned_x
    assert not first.late and last.late and last.forecast_x > last.planned_x
    assert chart.plot_left <= first.actual_x and last.forecast_x <= chart.plot_right
    assert chart.today_x is not None and first.planned_x < chart.today_x < last.planned_x
    assert chart.ticks and all(chart.plot_left <= t.x <= chart.plot_right for t in chart.ticks)
    assert gantt({}, date(2027, 1, 1)) is None
