"""The KPI dashboard (planning, ops, division): `GET /kpis` for a week and a month, and the
stored plan reports (`GET /planning/reports`), as tables with inline SVG bar charts; each
table exports as CSV (UTF-8 with a BOM, so that Excel opens the Chinese labels)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import xlsxwriter
from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.status import HTTP_200_OK, HTTP_403_FORBIDDEN, HTTP_404_NOT_FOUND

from app.desk.api import Answer, DeskApi
from app.desk.charts import Bars, bars
from app.desk.i18n import language, local_time, translator
from app.desk.pages import forbidden, render
from app.desk.session import desk_user
from shared.auth import KPI_READERS
from shared.periods import local_date, previous_month, previous_week

router = APIRouter(include_in_schema=False)

DASH = "—"


@dataclass(frozen=True)
class Table:
    """One KPI table: its key (`?table=` of the CSV), title, column labels and rows of cells
    already written as people read them; `chart` when it has one."""

    key: str
    title: str
    columns: list[str]
    rows: list[list[str]]
    chart: Bars | None = None
    note: str | None = None


def percent(rate: float | None) -> str:
    """A fraction as a percentage with one decimal (`75.0%`); empty for no rate."""
    return "" if rate is None else f"{rate * 100:.1f}%"


def number(value: Any) -> str:
    return "" if value is None else str(value)


def _achievement(
    key: str, title: str, departments: list[dict[str, Any]], t: Callable[..., str]
) -> Table:
    rows = [
        [t("dept." + d["department"]), number(d["due"]), number(d["met"]), percent(d["rate"])]
        for d in departments
    ]
    chart = bars(
        [
            (t("dept." + d["department"]), d["rate"], percent(d["rate"]) or DASH)
            for d in departments
        ],
        top=1.0,
    )
    return Table(
        key=key,
        title=title,
        columns=[t("kpi.department"), t("kpi.due"), t("kpi.met"), t("kpi.rate")],
        rows=rows,
        chart=chart if departments else None,
    )


def tables(
    kpis: dict[str, Any],
    reports: dict[str, tuple[str, Answer]],
    t: Callable[..., str],
    when: Callable[[Any], str],
) -> list[Table]:
    """The dashboard's tables from `GET /kpis` and the stored reports, in the page's order."""
    plan = kpis["plan_achievement"]
    on_time = kpis["on_time_delivery"]
    inspection = kpis["incoming_inspection"]
    dcn = kpis["design_change"]
    shortages = kpis["shortages"]
    fpy = kpis["first_pass_yield"]
    escalations = kpis["open_escalations"]
    causes = list(shortages["by_cause"].items())
    found = [
        _achievement("plan_week", t("kpi.plan_week", period=kpis["week"]), plan["week"], t),
        _achievement("plan_month", t("kpi.plan_month", period=kpis["month"]), plan["month"], t),
        Table(
            key="on_time_delivery",
            title=t("kpi.on_time_delivery", period=kpis["month"]),
            columns=[t("kpi.shipped"), t("kpi.on_time"), t("kpi.rate")],
            rows=[
                [number(on_time["shipped"]), number(on_time["on_time"]), percent(on_time["rate"])]
            ],
        ),
        Table(
            key="incoming_inspection",
            title=t("kpi.incoming_inspection", period=kpis["month"]),
            columns=[
                t("kpi.inspected"),
                t("kpi.within_sla"),
                t("kpi.compliance"),
                t("kpi.median_hours"),
            ],
            rows=[
                [
                    number(inspection["inspected"]),
                    number(inspection["within_sla"]),
                    percent(inspection["compliance"]),
                    number(inspection["median_hours"]),
                ]
            ],
        ),
        Table(
            key="design_change",
            title=t("kpi.design_change", period=kpis["month"]),
            columns=[
                t("kpi.issued"),
                t("kpi.within_sla"),
                t("kpi.median_hours"),
                t("kpi.p90_hours"),
            ],
            rows=[
                [
                    number(dcn["issued"]),
                    number(dcn["within_sla"]),
                    number(dcn["median_hours"]),
                    number(dcn["p90_hours"]),
                ]
            ],
        ),
        Table(
            key="shortages",
            title=t("kpi.shortages", period=kpis["month"]),
            columns=[t("kpi.cause"), t("kpi.events")],
            rows=[[t("cause." + cause), number(n)] for cause, n in causes],
            chart=bars([(t("cause." + cause), float(n), str(n)) for cause, n in causes]),
            note=t(
                "kpi.shortages_note",
                orders=shortages["orders"],
                total=shortages["total"],
                per_order=number(shortages["per_order"]) or DASH,
            ),
        ),
        Table(
            key="first_pass_yield",
            title=t("kpi.first_pass_yield", period=kpis["month"]),
            columns=[t("kpi.inspected"), t("kpi.passed_first"), t("kpi.rate")],
            rows=[[number(fpy["inspected"]), number(fpy["passed_first"]), percent(fpy["rate"])]],
        ),
        Table(
            key="open_escalations",
            title=t("kpi.open_escalations", total=escalations["total"]),
            columns=[t("kpi.age"), t("kpi.count")],
            rows=[[t("age." + age), number(n)] for age, n in escalations["by_age"].items()]
            + [
                [t("esc_board.level", level=lv), number(n)]
                for lv, n in escalations["by_level"].items()
            ],
        ),
    ]
    for kind, (period, answer) in reports.items():
        if answer.ok:
            report = answer.body
            table = _achievement(
                f"report_{kind}",
                t(f"kpi.report_{kind}", period=report["period"]),
                report["departments"],
                t,
            )
            found.append(
                Table(
                    key=table.key,
                    title=table.title,
                    columns=table.columns,
                    rows=table.rows,
                    chart=table.chart,
                    note=t("kpi.report_made", at=when(report["updated_at"])),
                )
            )
        else:
            found.append(
                Table(
                    key=f"report_{kind}",
                    title=t(f"kpi.report_{kind}", period=period),
                    columns=[],
                    rows=[],
                    note=answer.detail,
                )
            )
    return found


@dataclass(frozen=True)
class Dashboard:
    """What the dashboard read, or the answer that stopped it."""

    kpis: Answer
    # The stored reports by kind: the period asked for and the API's answer.
    reports: dict[str, tuple[str, Answer]]
    periods: dict[str, str]


async def _read(
    request: Request, week: str, month: str, report_week: str, report_month: str
) -> Dashboard:
    zone = request.app.state.settings.timezone
    today = local_date(datetime.now(UTC), zone)
    # The stored reports of the week and month asked for; else of the week and month just
    # ended (a report is made once its period is over).
    periods = {
        "week": week,
        "month": month,
        "report_week": report_week or week or previous_week(today, zone).label,
        "report_month": report_month or month or previous_month(today, zone).label,
    }
    api = DeskApi(request)
    kpis = await api.get("/kpis", week=week, month=month)
    reports: dict[str, tuple[str, Answer]] = {}
    if kpis.ok:
        for kind in ("week", "month"):
            period = periods[f"report_{kind}"]
            reports[kind] = (period, await api.get("/planning/reports", **{kind: period}))
    return Dashboard(kpis=kpis, reports=reports, periods=periods)


def _when(request: Request) -> Callable[[Any], str]:
    zone = request.app.state.settings.timezone
    return lambda instant: local_time(instant, zone)


@router.get("/kpis")
async def kpi_dashboard(
    request: Request,
    week: str = "",
    month: str = "",
    report_week: str = "",
    report_month: str = "",
) -> Response:
    """The KPI dashboard of a week and a month (default: the current ones)."""
    user = desk_user(request)
    data = await _read(request, week, month, report_week, report_month)
    if data.kpis.status == HTTP_403_FORBIDDEN:
        return forbidden(request, user, KPI_READERS)
    t = translator(language(request))
    return render(
        request,
        "kpis.html",
        user=user,
        status_code=data.kpis.status if not data.kpis.ok else HTTP_200_OK,
        tables=tables(data.kpis.body, data.reports, t, _when(request)) if data.kpis.ok else [],
        kpis=data.kpis.body if data.kpis.ok else None,
        periods=data.periods,
        error=None if data.kpis.ok else data.kpis.detail,
        problems=data.kpis.problems(),
        query=request.url.query,
    )


@router.get("/kpis.csv")
async def kpi_csv(
    request: Request,
    table: str,
    week: str = "",
    month: str = "",
    report_week: str = "",
    report_month: str = "",
) -> Response:
    """One dashboard table as CSV, its header row in the user's language."""
    found = await _export(request, table, week, month, report_week, report_month)
    if isinstance(found, Response):
        return found
    chosen, period = found
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(chosen.columns)
    writer.writerows(chosen.rows)
    # Excel reads a CSV as the system's code page unless it starts with a UTF-8 BOM.
    return _download(
        ("\ufeff" + out.getvalue()).encode("utf-8"),
        "text/csv; charset=utf-8",
        f"kpi-{table}-{period}.csv",
    )


@router.get("/kpis.xlsx")
async def kpi_xlsx(
    request: Request,
    table: str,
    week: str = "",
    month: str = "",
    report_week: str = "",
    report_month: str = "",
) -> Response:
    """One dashboard table as an Excel workbook (xlsxwriter), header row in bold."""
    found = await _export(request, table, week, month, report_week, report_month)
    if isinstance(found, Response):
        return found
    chosen, period = found
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet(table[:31])
    sheet.write_row(0, 0, chosen.columns, book.add_format({"bold": True}))
    for number_, row in enumerate(chosen.rows, start=1):
        sheet.write_row(number_, 0, row)
    sheet.set_column(0, max(len(chosen.columns) - 1, 0), 18)
    book.close()
    return _download(
        out.getvalue(),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        f"kpi-{table}-{period}.xlsx",
    )


async def _export(
    request: Request, table: str, week: str, month: str, report_week: str, report_month: str
) -> tuple[Any, str] | Response:
    """The dashboard table `table` and its period for a download, or the page saying why not
    (the 403 naming the readers, the API's refusal, an unknown table)."""
    user = desk_user(request)
    data = await _read(request, week, month, report_week, report_month)
    if data.kpis.status == HTTP_403_FORBIDDEN:
        return forbidden(request, user, KPI_READERS)
    t = translator(language(request))
    if not data.kpis.ok:
        return render(
            request,
            "message.html",
            user=user,
            status_code=data.kpis.status,
            message=data.kpis.detail,
        )
    chosen = next(
        (x for x in tables(data.kpis.body, data.reports, t, _when(request)) if x.key == table), None
    )
    if chosen is None or not chosen.columns:
        return render(
            request,
            "message.html",
            user=user,
            status_code=HTTP_404_NOT_FOUND,
            message=t("kpi.no_table", table=table),
        )
    period = {
        "plan_week": data.kpis.body["week"],
        "report_week": data.periods["report_week"],
        "report_month": data.periods["report_month"],
    }.get(table, data.kpis.body["month"])
    return chosen, str(period)


def _download(content: bytes, media_type: str, filename: str) -> Response:
    return Response(
        content,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )
