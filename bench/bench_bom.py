"""Benchmark: a BOM uploaded as a draft and released from it, 1k / 10k / 100k lines (issue 17).

For each size, on embedded PostgreSQL through the service functions the routes and the
release activity call (no HTTP, no Temporal: what is measured is reading, checking and
storing the lines):

- read + check: `checked_lines` on the CSV and on the XLSX export of a multi-level BOM;
- store draft: `store_draft` (INSERT ... SELECT FROM unnest(arrays)) and its commit;
- release from draft: `store_revision_from_draft` (INSERT ... SELECT in the database);
- release inline: `store_revision` + `grow_item_master` on the same lines (the same bulk
  inserts), the path an inline `lines` payload takes.

Measured on the shared 2-core machine (others' tests running), full size: release from a
draft 0.03 / 0.17 / 1.5 s, store draft 0.07 / 0.08 / 1.8 s, read + check CSV 0.01 / 0.47 /
3.5 s, XLSX 0.23 / 1.2 / 12.5 s; over HTTP a 100,000-line upload answered 201 in about 7 s
as CSV (3.7 MB), XLSX (2.5 MB) or JSON (11.3 MB).

"tiny" runs 100 lines once (what `make test` runs); "full" 1,000, 10,000 and 100,000. Targets:
the release of 10,000 lines in the database under 1.5 s (issue 17, item 3, with MRP; here the
BOM part alone), and the draft path growing linearly (100k lines within 12x of 10k).

    .venv/bin/python bench/bench_bom.py [tiny|full]
"""

from __future__ import annotations

import asyncio
import io
import shutil
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import xlsxwriter
from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.figures import Figure, Size, table  # noqa: E402
from bench.stack import embedded_database  # noqa: E402
from services.engineering.drafts import checked_lines, store_draft  # noqa: E402
from services.engineering.revisions import (  # noqa: E402
    grow_item_master,
    store_revision,
    store_revision_from_draft,
)
from shared.db import create_engine, session_scope  # noqa: E402

HEADER = ("item", "parent", "qty_per", "make_or_buy", "lead_days", "supplier")
SIZES: dict[Size, tuple[int, ...]] = {"tiny": (100,), "full": (1_000, 10_000, 100_000)}


def bom_rows(lines: int, tag: str) -> list[tuple[object, ...]]:
    """A BOM of `lines` lines, four children under each made item (1k lines: 5 levels,
    100k: 9), the leaves bought; about three lines in four are bought."""
    rows: list[tuple[object, ...]] = [(f"{tag}-0", None, 1, "make", None, None)]
    for n in range(1, lines):
        parent = f"{tag}-{(n - 1) // 4}"
        make = n * 4 + 1 < lines
        rows.append(
            (f"{tag}-{n}", parent, 2, "make", None, None)
            if make
            else (f"{tag}-{n}", parent, 3, "buy", 14, "Bench Supply")
        )
    return rows


def csv_body(rows: list[tuple[object, ...]]) -> bytes:
    cells = [HEADER, *rows]
    text = "\r\n".join(",".join("" if c is None else str(c) for c in row) for row in cells)
    return ("\ufeff" + text + "\r\n").encode()


def xlsx_body(rows: list[tuple[object, ...]]) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "constant_memory": True})
    sheet = book.add_worksheet("BOM")
    for r, row in enumerate([HEADER, *rows]):
        for c, cell in enumerate(row):
            if cell is not None:
                sheet.write(r, c, cell)
    book.close()
    return out.getvalue()


def _timed(started: float) -> float:
    return time.perf_counter() - started


async def _one_size(url: str, lines: int, size: Size) -> list[Figure]:
    tag = f"BB{uuid.uuid4().hex[:6]}"
    rows = bom_rows(lines, tag)
    label = f"{lines:,} lines"
    figures: list[Figure] = []
    started = time.perf_counter()
    checked = checked_lines(csv_body(rows), "csv")
    figures.append(Figure("bom", f"read + check CSV, {label}", _timed(started), "s"))
    started = time.perf_counter()
    checked_lines(xlsx_body(rows), "xlsx")
    figures.append(Figure("bom", f"read + check XLSX, {label}", _timed(started), "s"))
    engine = create_engine(url)
    at = datetime.now(UTC)
    try:
        async with engine.connect() as warm:  # the first connection is not what is measured
            await warm.execute(text("SELECT 1"))
        started = time.perf_counter()
        async with session_scope(engine) as session:
            draft_id = await store_draft(
                session, order_no=tag, by="bench", at=at, fmt="csv", filename=None, lines=checked
            )
        figures.append(Figure("bom", f"store draft, {label}", _timed(started), "s"))
        started = time.perf_counter()
        async with session_scope(engine) as session:
            await store_revision_from_draft(
                session, order_no=tag, revision=1, task_id=f"{tag}-t1", by="b", at=at,
                draft_id=draft_id,
            )  # fmt: skip
        release = _timed(started)
        judged = size == "full" and lines == 10_000
        figures.append(
            Figure(
                "bom",
                f"release from draft, {label}",
                release,
                "s",
                target="< 1.5 s" if judged else None,
                ok=release < 1.5 if judged else None,
            )
        )
        started = time.perf_counter()
        async with session_scope(engine) as session:
            await store_revision(
                session, order_no=tag, revision=2, task_id=f"{tag}-t2", by="b", at=at,
                lines=checked,
            )  # fmt: skip
            await grow_item_master(session, order_no=tag, at=at, lines=checked)
        figures.append(Figure("bom", f"release inline, {label}", _timed(started), "s"))
    finally:
        await engine.dispose()
    return figures


def _linear(figures: list[Figure]) -> list[Figure]:
    """The draft path (read + check CSV, store, release) at 100k against 10k lines."""

    def total(label: str) -> float:
        return sum(
            f.value
            for f in figures
            if f.name.endswith(label)
            and f.name.split(",")[0] in ("read + check CSV", "store draft", "release from draft")
        )

    small, large = total("10,000 lines"), total("100,000 lines")
    if not small or not large:
        return []
    return [
        Figure(
            "bom",
            "draft path, 100k vs 10k lines",
            large,
            "s",
            floor=small,
            target="<= 12x floor",
            ok=large <= 12 * small,
        )
    ]


async def measure(size: Size) -> list[Figure]:
    """Upload-and-release figures for every line count of `size`."""
    home = Path(tempfile.mkdtemp(prefix="orderflow-bench-bom-"))
    try:
        async with embedded_database(home) as url:
            figures: list[Figure] = []
            for lines in SIZES[size]:
                figures += await _one_size(url, lines, size)
            return figures + _linear(figures)
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    chosen: Size = "full" if sys.argv[1:] == ["full"] else "tiny"
    print(table(asyncio.run(measure(chosen))))
