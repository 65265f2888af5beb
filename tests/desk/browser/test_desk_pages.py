"""The department pages in Chromium: engineering finds its task in the inbox, a wrong value in
the generated form comes back as a 422 shown at its field, the corrected form completes the
task and leads to the order page; sales is refused the KPI dashboard with the 403 page naming
the roles it needs, which planning opens; the order page with its master plan as a Gantt, on
a laptop and a tablet. Screenshots of each page; no console error."""

from __future__ import annotations

import re

from app.desk.i18n import MESSAGES
from tests.conftest import Stack
from tests.desk.browser.conftest import TABLET, Desk
from tests.drivers import to_master_plan
from tests.helpers import complete_ok, create_order, wait_task

EN = MESSAGES["en"]


async def test_a_task_from_the_inbox_through_its_form_to_the_order_page(
    desk: Desk, stack: Stack
) -> None:
    page = desk.page
    order_no = await create_order(stack)
    task = await wait_task(stack, "engineering.contract_review", order_no)
    await desk.sign_in("erin", "engineering")

    await (
        page.get_by_role("navigation", name="main")
        .get_by_role("link", name=EN["dept.engineering"])
        .click()
    )
    await page.wait_for_url(re.compile(r"/desk/inbox/engineering"))
    row = page.locator("tr", has_text=order_no)
    await row.get_by_role("link", name=EN["kind.engineering.contract_review"]).wait_for()
    await desk.shot("inbox")

    await row.get_by_role("link", name=EN["kind.engineering.contract_review"]).click()
    form_path = f"/desk/tasks/engineering/{task['task_id']}"
    await page.wait_for_url(re.compile(re.escape(form_path) + "$"))
    await desk.shot("task-form")

    # A negative number of design days: the API's 422, shown next to the field.
    desk.expected_failures.add(desk.url(form_path))
    await page.locator("#f-ok").select_option("true")
    await page.locator("#f-design_days").fill("-3")
    await page.get_by_role("button", name=EN["task.submit"]).click()
    problem = page.locator("#f-design_days-problem")
    await problem.wait_for()
    assert "greater than or equal to 0" in await problem.inner_text()
    assert await page.locator("#f-design_days").input_value() == "-3"
    await desk.shot("task-form-422")

    await page.locator("#f-design_days").fill("20")
    await page.get_by_role("button", name=EN["task.submit"]).click()
    await page.wait_for_url(re.compile(rf"/desk/orders/{re.escape(order_no)}\?done="))
    await page.get_by_role("heading", name=re.compile(re.escape(order_no))).first.wait_for()
    await desk.shot("order")
    desk.assert_clean_console()


async def test_sales_sees_the_403_page_and_planning_the_kpi_dashboard(desk: Desk) -> None:
    page = desk.page
    await desk.sign_in("sam", "sales")
    await desk.open("/desk/kpis", status=403)
    await page.get_by_role("heading", name=EN["forbidden.title"]).wait_for()
    assert "planning, ops, division" in await page.locator("main").inner_text()
    await desk.shot("forbidden")

    await page.get_by_role("button", name=EN["nav.sign_out"]).click()
    await page.get_by_role("heading", name=EN["sign_in.title"]).wait_for()
    await desk.sign_in("pia", "planning")
    await (
        page.get_by_role("navigation", name="main").get_by_role("link", name=EN["nav.kpis"]).click()
    )
    await page.wait_for_url(re.compile(r"/desk/kpis"))
    await page.locator("#kpi-plan_week").wait_for()
    await desk.shot("kpis")
    desk.assert_clean_console()


async def test_the_order_page_with_its_master_plan_on_a_laptop_and_a_tablet(
    desk: Desk, stack: Stack
) -> None:
    page = desk.page
    order_no = await create_order(stack)
    await to_master_plan(stack, order_no)
    await complete_ok(stack, "planning.master_plan", order_no, {"accept_proposal": True})
    await wait_task(stack, "engineering.release_bom", order_no)
    await desk.sign_in("pat", "planning")

    await (
        page.get_by_role("navigation", name="main")
        .get_by_role("link", name=EN["nav.orders"])
        .click()
    )
    await page.get_by_role("link", name=order_no).click()
    await page.wait_for_url(re.compile(rf"/desk/orders/{re.escape(order_no)}$"))
    stages = page.locator("ol.stages")
    assert await stages.locator('[aria-current="step"]').inner_text() == EN["stage.engineering"]
    gantt = page.locator("svg.gantt")
    await gantt.wait_for()
    assert await gantt.locator("[data-milestone]").count() > 0
    await desk.shot("order-plan")
    # The stage bar and the Gantt (the README's picture of the order page).
    await desk.shot("order-plan-top", down_to="section:has(svg.gantt)")
    await page.set_viewport_size(TABLET)
    await desk.shot("order-plan-768", full_page=False)
    overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the order page is {overflow}px wider than a 768 px tablet"
    desk.assert_clean_console()
