"""The KPI dashboard: for planning, ops and division only (others get the 403 page naming
them), every KPI as a table with a bar chart where it has one, the stored reports, and each
table as CSV in UTF-8 with a BOM."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from app.desk.i18n import MESSAGES
from services.planning.reports import store_report
from shared.db import session_scope
from tests.conftest import Stack
from tests.desk.desk_client import desk

EN = MESSAGES["en"]
ZH = MESSAGES["zh"]
TABLES = (
    "plan_week",
    "plan_month",
    "on_time_delivery",
    "incoming_inspection",
    "design_change",
    "shortages",
    "first_pass_yield",
    "open_escalations",
)


async def test_the_kpi_dashboard_is_for_planning_ops_and_division(
    stack: Stack, engine: AsyncEngine
) -> None:
    async with desk(stack, "sam", "sales") as (http, _):
        refused = await http.get("/desk/kpis")
        assert refused.status_code == 403
        assert EN["forbidden.missing"] in refused.text
        assert "planning, ops, division" in refused.text
        csv_refused = await http.get("/desk/kpis.csv", params={"table": "plan_week"})
        assert csv_refused.status_code == 403

    async with desk(stack, "olga", "ops") as (http, _):
        page = await http.get("/desk/kpis", params={"week": "2026-W48", "month": "2026-11"})
        assert page.status_code == 200, page.text
        for key in TABLES:
            assert f'id="kpi-{key}"' in page.text
            assert f"/desk/kpis.csv?table={key}&amp;week=2026-W48&amp;month=2026-11" in page.text
        assert EN["kpi.plan_week"].format(period="2026-W48") in page.text
        assert EN["dept.engineering"] in page.text and EN["cause.late_supply"] in page.text
        assert page.text.count('<svg class="bars"') >= 3  # week, month, shortages
        # No report stored for 2026-W48 in a fresh database: the API's sentence says so.
        assert "the plan report of week 2026-W48 was due on" in page.text
        assert "the plan report of month 2026-11 was due on" in page.text

        bad = await http.get("/desk/kpis", params={"week": "2026-W99"})
        assert bad.status_code == 422

    # A stored weekly report shows as its own table, exported like the others.
    async with session_scope(engine) as session:
        await store_report(
            session,
            kind="week",
            period="2026-W47",
            rows=[{"department": "engineering", "due": 4, "met": 3, "rate": 0.75}],
            at=datetime(2026, 11, 23, 1, tzinfo=UTC),
        )
    async with desk(stack, "dora", "division") as (http, _):
        page = await http.get("/desk/kpis", params={"report_week": "2026-W47"})
        assert page.status_code == 200, page.text
        report = page.text[page.text.index('id="kpi-report_week"') :]
        assert EN["kpi.report_week"].format(period="2026-W47") in report
        assert "<td>4</td><td>3</td><td>75.0%</td>" in report
        exported = await http.get(
            "/desk/kpis.csv", params={"table": "report_week", "report_week": "2026-W47"}
        )
        assert exported.status_code == 200
        assert 'filename="kpi-report_week-2026-W47.csv"' in exported.headers["content-disposition"]
        assert exported.content.decode("utf-8-sig").splitlines()[1:] == [
            f"{EN['dept.engineering']},4,3,75.0%"
        ]

    async with desk(stack, "pat", "planning", lang="zh-CN") as (http, _):
        exported = await http.get(
            "/desk/kpis.csv", params={"table": "shortages", "month": "2026-11"}
        )
        assert exported.status_code == 200, exported.text
        assert exported.headers["content-type"].startswith("text/csv")
        disposition = exported.headers["content-disposition"]
        assert disposition == 'attachment; filename="kpi-shortages-2026-11.csv"'
        assert exported.content.startswith("\ufeff".encode())
        rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
        assert rows[0] == [ZH["kpi.cause"], ZH["kpi.events"]]
        assert [ZH["cause.late_supply"], "0"] in rows[1:]

        # The same table as an Excel workbook: its header row and rows in its shared strings.
        workbook = await http.get(
            "/desk/kpis.xlsx", params={"table": "shortages", "month": "2026-11"}
        )
        assert workbook.status_code == 200, workbook.text
        assert workbook.headers["content-type"].startswith("application/vnd.openxmlformats")
        assert 'filename="kpi-shortages-2026-11.xlsx"' in workbook.headers["content-disposition"]
        with zipfile.ZipFile(io.BytesIO(workbook.content)) as book:
            strings = book.read("xl/sharedStrings.xml").decode()
            assert "xl/worksheets/sheet1.xml" in book.namelist()
        for text in (ZH["kpi.cause"], ZH["kpi.events"], ZH["cause.late_supply"]):
            assert text in strings

        missing = await http.get("/desk/kpis.csv", params={"table": "nothing"})
        assert missing.status_code == 404
