"""Reading an uploaded BOM (JSON, CSV or an Excel sheet) into rows of line fields: no I/O.

What engineers export from their CAD/PDM comes as text: a CSV (UTF-8 with or without the BOM
mark Excel writes, else GB18030 as Chinese Excel saves it) or the first sheet of an XLSX
workbook, each with a header row naming the line fields (`item`, `parent`, `qty_per`,
`make_or_buy`, `lead_days`, `supplier`, `special`; other columns are ignored, and in an XLSX
those past the 64th are not read). Cells are turned into what the JSON payload would carry
(numbers, booleans, None for an empty cell), so one validation (services/engineering/drafts.py)
judges every format alike; a cell that cannot be turned is passed on as text and refused
there with its row and field.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from openpyxl import load_workbook

# The line fields a file's header may name; `item`, `qty_per` and `make_or_buy` it must.
FIELDS = ("item", "parent", "qty_per", "make_or_buy", "lead_days", "supplier", "special")
REQUIRED = ("item", "qty_per", "make_or_buy")
# Header names Chinese sheets use for the same fields.
ALIASES = {
    "物料": "item",
    "物料编码": "item",
    "父项": "parent",
    "父件": "parent",
    "用量": "qty_per",
    "单位用量": "qty_per",
    "自制/外购": "make_or_buy",
    "自制或外购": "make_or_buy",
    "提前期": "lead_days",
    "供应商": "supplier",
    "特殊": "special",
}
CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
JSON = "application/json"
FORMATS = {JSON: "json", CSV: "csv", XLSX: "xlsx"}
_INTEGER = re.compile(r"[+-]?\d+")
_TRUE = {"true", "yes", "y", "1", "是", "x"}
_FALSE = {"false", "no", "n", "0", "否"}


# An upload that cannot be read as a BOM at all (not one bad line): the API's 422 sentence.
class UnreadableUpload(ValueError):
    pass


# One data row of the upload: its number in the file (header = row 1) and its line fields.
@dataclass(frozen=True)
class Row:
    row: int
    fields: dict[str, Any]


def read_upload(body: bytes, fmt: str, limit: int) -> Iterator[Row]:
    """The rows of an upload in format `fmt` (json, csv, xlsx); more than `limit` rows is
    refused as soon as row `limit + 1` is read."""
    rows = {"json": _json_rows, "csv": _csv_rows, "xlsx": _xlsx_rows}[fmt](body)
    for count, row in enumerate(rows, start=1):
        if count > limit:
            raise UnreadableUpload(f"the BOM has more than {limit} lines; split it or ask ops")
        yield row


def _json_rows(body: bytes) -> Iterator[Row]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise UnreadableUpload(f"the body is not JSON: {exc}") from exc
    lines = data.get("lines") if isinstance(data, dict) else None
    if not isinstance(lines, list):
        raise UnreadableUpload('a JSON upload is {"lines": [...]}, each line an object')
    for number, line in enumerate(lines, start=1):
        if not isinstance(line, dict):
            raise UnreadableUpload(f"line {number} is not an object of line fields")
        yield Row(number, {k: v for k, v in line.items() if k in FIELDS})


def _decode(body: bytes) -> str:
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return body.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise UnreadableUpload("the CSV is neither UTF-8 nor GB18030 text") from exc


def _csv_rows(body: bytes) -> Iterator[Row]:
    reader = csv.reader(io.StringIO(_decode(body), newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise UnreadableUpload("the CSV is empty; its first row names the line fields") from None
    except csv.Error as exc:
        raise UnreadableUpload(f"the CSV cannot be read: {exc}") from exc
    columns = _columns(header)
    start = reader.line_num + 1
    try:
        for cells in reader:
            row, start = start, reader.line_num + 1
            if any(cell.strip() for cell in cells):
                yield Row(row, _typed(columns, cells))
    except csv.Error as exc:
        raise UnreadableUpload(f"the CSV cannot be read at row {start}: {exc}") from exc


# What an XLSX may ask of the reader. A workbook is a zip of XML parts: one part may inflate to
# at most PART_MAX bytes (`zipfile` never inflates a part past the size it declares), and only
# the first COLUMNS_READ columns are read, so a cell placed far right (a sheet whose stated
# extent reaches column XFD) does not make every row 16,384 cells wide.
PART_MAX = 128 * 2**20
COLUMNS_READ = 64


def _xlsx_rows(body: bytes) -> Iterator[Row]:
    try:
        _check_parts(zipfile.ZipFile(io.BytesIO(body)))
        book = load_workbook(io.BytesIO(body), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError) as exc:
        raise UnreadableUpload(f"the body is not an XLSX workbook: {exc}") from exc
    try:
        sheet = book.worksheets[0]
        rows = sheet.iter_rows(max_col=COLUMNS_READ, values_only=True)
        header = next(rows, None)
        if header is None:
            raise UnreadableUpload("the sheet is empty; its first row names the line fields")
        columns = _columns(["" if cell is None else str(cell) for cell in header])
        for number, cells in enumerate(rows, start=2):
            if any(cell is not None and str(cell).strip() for cell in cells):
                yield Row(number, _typed(columns, cells))
    finally:
        book.close()


def _check_parts(book: zipfile.ZipFile) -> None:
    """Refuse a workbook with a part that would inflate past PART_MAX (a zip bomb)."""
    for info in book.infolist():
        if info.file_size > PART_MAX:
            raise UnreadableUpload(
                f"the workbook's part {info.filename} inflates to {info.file_size:,} bytes, "
                f"more than the {PART_MAX:,} read from one part; save the BOM alone in a new "
                "workbook and upload that"
            )


def _columns(header: Iterable[str]) -> dict[int, str]:
    """Column index → line field, from the header row; a required field missing is refused."""
    columns: dict[int, str] = {}
    for index, name in enumerate(header):
        key = name.strip().lstrip("\ufeff")
        field = ALIASES.get(key, key.lower())
        if field in FIELDS and field not in columns.values():
            columns[index] = field
    missing = [field for field in REQUIRED if field not in columns.values()]
    if missing:
        raise UnreadableUpload(
            f"the header row names no {', '.join(missing)} column; it names the line fields "
            f"({', '.join(FIELDS)})"
        )
    return columns


def _typed(columns: dict[int, str], cells: Iterable[Any]) -> dict[str, Any]:
    """A row's cells as the JSON payload would carry them."""
    values = list(cells)
    fields: dict[str, Any] = {}
    for index, field in columns.items():
        cell = values[index] if index < len(values) else None
        if isinstance(cell, str):
            cell = cell.strip() or None
        fields[field] = _TURN[field](cell)
    return fields


def _text(cell: Any) -> Any:
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))  # an item number Excel stored as a number
    return cell if cell is None or isinstance(cell, str) else str(cell)


def _required_text(cell: Any) -> Any:
    return "" if cell is None else _text(cell)


def _number(cell: Any) -> Any:
    if isinstance(cell, str):
        try:
            return int(cell) if _INTEGER.fullmatch(cell) else float(cell)
        except ValueError:
            return cell
    return cell


def _whole(cell: Any) -> Any:
    cell = _number(cell)
    return int(cell) if isinstance(cell, float) and cell.is_integer() else cell


def _make_or_buy(cell: Any) -> Any:
    return cell.lower() if isinstance(cell, str) else _required_text(cell)


def _flag(cell: Any) -> Any:
    if isinstance(cell, (int, float)) and not isinstance(cell, bool) and cell in (0, 1):
        return bool(cell)
    if isinstance(cell, str) and cell.lower() in _TRUE | _FALSE:
        return cell.lower() in _TRUE
    return cell


_TURN = {
    "item": _required_text,
    "parent": _text,
    "qty_per": _number,
    "make_or_buy": _make_or_buy,
    "lead_days": _whole,
    "supplier": _text,
    "special": _flag,
}
