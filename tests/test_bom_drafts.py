"""BOM drafts (issue 17, item 2): a BOM uploaded as JSON, CSV or XLSX is checked line by line
(422 naming each bad row of the file), stored as a draft, and released by `draft_id`: the
order's revision is the draft's lines, copied in the database, with the order walked on to
materials through the real stack. A draft of another order, an unknown one or one released
already is refused before the update."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest
import xlsxwriter
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.limits import PUBLIC_PATHS_WITH_SCHEMA, InputLimits
from services.engineering import bom_upload
from services.engineering.bom_upload import CSV, XLSX
from services.engineering.drafts import checked_lines, release_refusal
from shared.db import session_scope
from shared.errors import APIError
from tests.conftest import Stack
from tests.drivers import inbox, order, to_master_plan
from tests.helpers import complete, complete_ok, create_order
from tests.test_input_limits import LIMIT, Recorder, post, raw, serve

HEADER = ["item", "parent", "qty_per", "make_or_buy", "lead_days", "supplier", "special"]
# A cabinet with a frame, a breaker and bolts: the same BOM in every format.
ROWS: list[list[Any]] = [
    ["CAB-D1", None, 1, "make", None, None, None],
    ["FRAME-D1", "CAB-D1", 1, "make", None, None, None],
    ["VS1-D1", "CAB-D1", 1, "buy", 30, "Chint", True],
    ["BOLT-D1", "FRAME-D1", 48, "buy", 7, "Fastenal", False],
]


def csv_body(rows: list[list[Any]]) -> bytes:
    """A CSV as Excel exports it: UTF-8 with the byte order mark, CRLF line ends."""
    cells = [HEADER, *[["" if c is None else str(c).lower() for c in row] for row in rows]]
    return ("\ufeff" + "\r\n".join(",".join(row) for row in cells) + "\r\n").encode()


def xlsx_body(rows: list[list[Any]], *, stray: tuple[int, int, Any] | None = None) -> bytes:
    """The header and `rows` as an XLSX sheet; `stray`: one more cell (row, column, value)."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet("BOM")
    for r, row in enumerate([HEADER, *rows]):
        for c, cell in enumerate(row):
            if cell is not None:
                sheet.write(r, c, cell)
    if stray is not None:
        sheet.write(*stray)
    book.close()
    return out.getvalue()


def json_lines(rows: list[list[Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in zip(HEADER, row, strict=True) if v is not None} for row in rows]


async def upload(
    stack: Stack, order_no: str, body: bytes, media: str, **params: str
) -> dict[str, Any]:
    response = await stack.http.post(
        f"/engineering/orders/{order_no}/bom-drafts",
        content=body,
        params=params,
        headers={**stack.token("eng-1", "engineering"), "Content-Type": media},
    )
    return {"status": response.status_code, **response.json()}


async def test_drafts_upload_check_and_release_by_id(flow: Stack) -> None:
    order_no = await create_order(flow)
    other = await create_order(flow)  # in review: a draft may be made ahead of the plan
    foreign = await upload(flow, other, csv_body(ROWS), CSV)
    assert foreign["status"] == 201, foreign
    await to_master_plan(flow, order_no)
    view = await complete_ok(flow, "planning.master_plan", order_no, {"accept_proposal": True})
    assert view["stage"] == "engineering"

    # A bad CSV row and a bad sheet row are named by line, file row and field.
    bad_csv = csv_body([*ROWS[:2], ["VS1-D1", "CAB-D1", "lots", "buy", 30, "Chint", "true"]])
    refused = await upload(flow, order_no, bad_csv, CSV)
    assert refused["status"] == 422 and refused["error"] == "invalid_bom", refused
    assert refused["problems"] == [
        {
            "line": 3,
            "row": 4,
            "field": "qty_per",
            "code": "invalid_value",
            "problem": "line 3 (row 4), qty_per: Input should be a valid number",
        }
    ]
    bad_sheet = xlsx_body([*ROWS, ["NUT-D1", "FRAME-D9", 4, "buy", 7, "Fastenal", None]])
    refused = await upload(flow, order_no, bad_sheet, XLSX)
    assert refused["status"] == 422, refused
    (problem,) = refused["problems"]
    assert (problem["row"], problem["field"], problem["code"]) == (6, "parent", "unknown_parent")
    assert "FRAME-D9" in refused["detail"]
    unsupported = await upload(flow, order_no, b"x", "application/vnd.ms-excel")
    assert unsupported["status"] == 415 and unsupported["error"] == "unsupported_media_type"
    assert (await upload(flow, "NO-SUCH-ORDER", csv_body(ROWS), CSV))["status"] == 404

    # Each format makes the same draft.
    drafts = {}
    for fmt, body, media in (
        ("csv", csv_body(ROWS), CSV),
        ("xlsx", xlsx_body(ROWS), XLSX),
        ("json", json.dumps({"lines": json_lines(ROWS)}).encode(), "application/json"),
    ):
        made = await upload(flow, order_no, body, media, filename=f"bom.{fmt}")
        assert made["status"] == 201, made
        assert (made["format"], made["filename"], made["line_count"]) == (fmt, f"bom.{fmt}", 4)
        assert (made["item_count"], made["make_count"], made["buy_count"]) == (4, 2, 2)
        drafts[fmt] = made["draft_id"]
    headers = flow.token("reader", "procurement")
    page = await flow.http.get(
        f"/engineering/orders/{order_no}/bom-drafts/{drafts['xlsx']}",
        params={"offset": 2, "limit": 1},
        headers=flow.token("reader", "engineering"),
    )
    assert page.status_code == 200, page.text
    assert [(x["line_no"], x["item"], x["lead_days"]) for x in page.json()["lines"]] == [
        (3, "VS1-D1", 30)
    ]
    assert page.json()["released_revision"] is None
    draft_of_other = await flow.http.get(
        f"/engineering/orders/{order_no}/bom-drafts/{foreign['draft_id']}",
        headers=flow.token("reader", "engineering"),
    )
    assert draft_of_other.status_code == 404

    # Refused before the update: another order's draft, an unknown one, lines and a draft.
    for payload, code in (
        ({"draft_id": foreign["draft_id"]}, "unknown_draft"),
        ({"draft_id": 2**31 - 1}, "unknown_draft"),
        ({"draft_id": drafts["csv"], "lines": json_lines(ROWS)}, "invalid_payload"),
    ):
        response = await complete(flow, "engineering.release_bom", order_no, payload)
        assert (response.status_code, response.json()["error"]) == (422, code), response.text
    assert [t["state"] for t in await inbox(flow, "engineering.release_bom", order_no)] == ["open"]

    # Released by id: the revision holds the sheet's lines; special operations still pass.
    view = await complete_ok(
        flow,
        "engineering.release_bom",
        order_no,
        {"draft_id": drafts["xlsx"], "special_operations": ["paint"]},
    )
    assert view["stage"] == "materials"
    released = [e for e in view["timeline"] if e["kind"] == "bom_released"]
    assert released[0]["detail"]["draft_id"] == drafts["xlsx"]
    assert released[0]["detail"]["new_item_count"] == 4
    bom = await flow.http.get(f"/procurement/orders/{order_no}/bom", headers=headers)
    assert bom.status_code == 200, bom.text
    assert [
        (x["item"], x["parent"], float(x["qty_per"]), x["supplier"]) for x in bom.json()["lines"]
    ] == [(r[0], r[1], float(r[2]), r[5]) for r in ROWS]
    requisitions = await flow.http.get(
        "/procurement/requisitions", params={"order_no": order_no}, headers=headers
    )
    assert sorted(r["item"] for r in requisitions.json()) == ["BOLT-D1", "VS1-D1"]
    shown = await flow.http.get(
        f"/engineering/orders/{order_no}/bom-drafts/{drafts['xlsx']}",
        headers=flow.token("reader", "engineering"),
    )
    assert shown.json()["released_revision"] == 1
    late = await upload(flow, order_no, csv_body(ROWS), CSV)
    assert (late["status"], late["error"]) == (409, "bom_not_open")
    assert "design change" in late["detail"]
    assert (await order(flow, order_no))["stage"] == "materials"


async def test_a_released_draft_is_not_released_again(flow: Stack, engine: AsyncEngine) -> None:
    order_no = await create_order(flow)
    made = await upload(flow, order_no, csv_body(ROWS), CSV)
    async with session_scope(engine) as session:
        await session.execute(
            text("UPDATE engineering.bom_drafts SET released_revision = 1 WHERE id = :id"),
            {"id": made["draft_id"]},
        )
    async with session_scope(engine) as session:
        with pytest.raises(APIError) as refused:
            await release_refusal(session, order_no, made["draft_id"])
    assert (refused.value.status, refused.value.error) == (409, "draft_released")


def test_chinese_csv_and_every_bad_row_of_a_big_sheet() -> None:
    """A GB18030 CSV with Chinese headers reads; a 2,000-row sheet names each bad row."""
    chinese = "物料,父项,用量,自制/外购,供应商\r\n柜体,,1,make,\r\n螺栓,柜体,4,buy,本地\r\n"
    lines = checked_lines(chinese.encode("gb18030"), "csv")
    assert [(x.item, x.parent, x.qty_per) for x in lines] == [
        ("柜体", None, 1),
        ("螺栓", "柜体", 4),
    ]
    rows = [["TOP", None, 1, "make", None, None, None]]
    rows += [
        [f"P{n}", "TOP", 0 if n % 500 == 0 else 1, "buy", 5, "S", None] for n in range(1, 2000)
    ]
    with pytest.raises(APIError) as refused:
        checked_lines(xlsx_body(rows), "xlsx")
    assert [p["row"] for p in refused.value.extra["problems"]] == [502, 1002, 1502]
    assert {p["field"] for p in refused.value.extra["problems"]} == {"qty_per"}


def test_a_cell_far_to_the_right_does_not_widen_every_row(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A stray value at column XFD (the sheet's extent then spans 16,384 columns): read only
    to the 64th column, the BOM reads as if it were not there."""
    widths: list[int] = []
    typed = bom_upload._typed

    def counting(columns: dict[int, str], cells: Any) -> dict[str, Any]:
        widths.append(len(cells))
        return typed(columns, cells)

    monkeypatch.setattr(bom_upload, "_typed", counting)
    lines = checked_lines(xlsx_body(ROWS, stray=(len(ROWS), 16383, "stray")), "xlsx")
    assert [line.item for line in lines] == [row[0] for row in ROWS]
    assert widths and max(widths) == bom_upload.COLUMNS_READ, widths


def test_a_workbook_part_inflating_past_the_limit_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A zip bomb: a part that inflates past PART_MAX is refused before anything is read."""
    body = xlsx_body(ROWS)
    largest = max(info.file_size for info in zipfile.ZipFile(io.BytesIO(body)).infolist())
    monkeypatch.setattr(bom_upload, "PART_MAX", largest - 1)
    with pytest.raises(APIError) as refused:
        checked_lines(body, "xlsx")
    assert refused.value.error == "invalid_bom"
    assert "inflates to" in refused.value.detail, refused.value.detail
    monkeypatch.setattr(bom_upload, "PART_MAX", largest)
    assert len(checked_lines(body, "xlsx")) == len(ROWS)


async def test_an_upload_has_its_own_larger_body_limit() -> None:
    """A BOM upload may be larger than any other body (ORDERFLOW_MAX_UPLOAD_BYTES), and is
    itself refused with 413 above its limit before the body is read."""
    recorder = Recorder()
    app = InputLimits(
        recorder,
        max_body_bytes=LIMIT,
        public_paths=PUBLIC_PATHS_WITH_SCHEMA,
        max_upload_bytes=2 * LIMIT,
    )
    upload_path = "/engineering/orders/SO-1/bom-drafts"
    async with serve(app) as port:
        status, body = await raw(port, post(upload_path, length=LIMIT + 10), [b"x" * (LIMIT + 10)])
        assert (status, body) == (200, {"read": LIMIT + 10})
        status, body = await raw(port, post(upload_path, length=2 * LIMIT + 1))
        assert status == 413 and "ORDERFLOW_MAX_UPLOAD_BYTES" in body["detail"]
        status, body = await raw(port, post("/sales/orders", length=LIMIT + 10))
        assert status == 413 and "ORDERFLOW_MAX_BODY_BYTES" in body["detail"]
    assert recorder.calls == 1
