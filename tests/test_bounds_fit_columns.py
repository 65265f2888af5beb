"""A payload that passes the API can always be stored: every bound fits the column it lands in.

Walks every task kind's payload model (nested parts included) and every request schema, and
every field of them that takes text or a number. Each such field is mapped, in
tests/bounds_columns.py, to the column it lands in (or to free text kept in a `text`/JSONB
column); a field without an entry fails, and so does a bound wider than its column.
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from decimal import Decimal
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import pytest
from pydantic import BaseModel, Field, create_model
from pydantic.fields import FieldInfo
from sqlalchemy import Column, Integer, Numeric

from services.procurement.models import PoLine, PurchaseOrder
from services.sales.models import Order
from shared.bounds import FREE_TEXT_LEN, NumericFit
from shared.tasks.kinds import TASK_KINDS
from tests.bounds_columns import COLUMNS, INT4_MAX, REQUEST_SCHEMAS, col


def _models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for arg in get_args(annotation):
        yield from _models_in(arg)


def input_models() -> list[type[BaseModel]]:
    """Every payload model and request schema, with the models nested in their fields."""
    seen: list[type[BaseModel]] = []
    todo = [kind.payload for kind in TASK_KINDS.values()] + list(REQUEST_SCHEMAS)
    while todo:
        model = todo.pop()
        if model in seen:
            continue
        seen.append(model)
        for field in model.model_fields.values():
            todo.extend(_models_in(field.annotation))
    return sorted(seen, key=lambda m: m.__name__)


def _leaves(annotation: Any) -> Iterator[Any]:
    """The scalar types a field holds, through Optional, list and Annotated."""
    origin = get_origin(annotation)
    if origin is Annotated:
        yield from _leaves(get_args(annotation)[0])
    elif origin in (Union, types.UnionType, list):
        for arg in get_args(annotation):
            yield from _leaves(arg)
    elif annotation is not type(None):
        yield annotation


def _flat(items: list[Any]) -> list[Any]:
    out = []
    for item in items:
        out.append(item)
        if isinstance(item, FieldInfo):
            out.extend(item.metadata)
    return out


def _annotation_metadata(annotation: Any) -> list[Any]:
    """The constraints inside a field's type (`Text | None`, `list[Annotated[Text, ...]]`)."""
    found: list[Any] = []
    if get_origin(annotation) is Annotated:
        found.extend(_flat(list(annotation.__metadata__)))
    for arg in get_args(annotation):
        found.extend(_annotation_metadata(arg))
    return found


def _metadata(field: FieldInfo) -> list[Any]:
    """The constraints on a field's values: a list's items' own, else the field's and its type's."""
    inner = _annotation_metadata(field.annotation)
    return inner if field_is_list(field) else _flat(list(field.metadata)) + inner


def _bound(field: FieldInfo, name: str, *, of_list: bool = False) -> Any:
    metadata = _flat(list(field.metadata)) if of_list else _metadata(field)
    values = [getattr(m, name) for m in metadata if getattr(m, name, None) is not None]
    return min(values) if values else None


def checked_fields() -> list[tuple[type[BaseModel], str, FieldInfo]]:
    """Every field that takes text or a number (Literal and bool fields are closed sets)."""
    out = []
    for model in input_models():
        for name, field in model.model_fields.items():
            leaves = [t for t in _leaves(field.annotation) if get_origin(t) is not Literal]
            if any(t in (str, int, float, Decimal) for t in leaves if t is not bool):
                out.append((model, name, field))
    return out


FIELDS = checked_fields()


def _id(case: tuple[type[BaseModel], str, FieldInfo]) -> str:
    return f"{case[0].__name__}.{case[1]}"


def test_every_field_taking_text_or_numbers_is_mapped_to_its_column() -> None:
    unmapped = [_id(case) for case in FIELDS if (case[0], case[1]) not in COLUMNS]
    assert unmapped == [], f"map these fields to the column they land in: {unmapped}"
    stale = [f"{m.__name__}.{n}" for m, n in COLUMNS if n not in m.model_fields]
    assert stale == []


@pytest.mark.parametrize("case", FIELDS, ids=_id)
def test_bound_fits_the_column(case: tuple[type[BaseModel], str, FieldInfo]) -> None:
    model, name, field = case
    column = COLUMNS[(model, name)]
    leaves = set(_leaves(field.annotation))
    if str in leaves:
        max_length = _bound(field, "max_length")
        assert max_length is not None, f"{_id(case)}: text without a max length"
        length = getattr(column.type, "length", None)  # String(n) and SQLModel's AutoString
        if length is not None:
            assert max_length <= length, f"{_id(case)} is wider than {column}"
        else:
            assert max_length <= FREE_TEXT_LEN, f"{_id(case)}: free text above {FREE_TEXT_LEN}"
    if field_is_list(field):
        size = _bound(field, "max_length", of_list=True)
        assert size is not None, f"{_id(case)}: a list without a max size"
    if leaves & {float, Decimal}:
        assert isinstance(column.type, Numeric), f"{_id(case)} lands in {column.type}"
        precision, scale = column.type.precision, column.type.scale
        assert precision is not None and scale is not None
        fits = [m for m in _metadata(field) if isinstance(m, NumericFit)]
        if fits:
            (fit,) = fits
            assert fit.precision - fit.scale <= precision - scale and fit.scale <= scale
        else:
            max_digits, places = _bound(field, "max_digits"), _bound(field, "decimal_places")
            assert max_digits is not None and places is not None, f"{_id(case)} is unbounded"
            assert max_digits - places <= precision - scale and places <= scale
        assert _bound(field, "allow_inf_nan") is False, f"{_id(case)} takes NaN or Infinity"
    if int in leaves and bool not in leaves:
        upper = _bound(field, "le")
        assert upper is not None, f"{_id(case)}: an integer without an upper bound"
        if isinstance(column.type, Integer):
            assert upper <= INT4_MAX


def field_is_list(field: FieldInfo) -> bool:
    return any(get_origin(a) is list for a in [field.annotation, *get_args(field.annotation)])


@pytest.mark.parametrize(
    ("annotation", "field", "column"),
    [
        (str | None, Field(default=None, max_length=65), col(PurchaseOrder, "po_no")),
        (Decimal, Field(max_digits=20, decimal_places=6, allow_inf_nan=False), col(PoLine, "qty")),
        (str, Field(max_length=FREE_TEXT_LEN + 1), col(Order, "project_name")),
    ],
    ids=["po_no-65", "qty-numeric(20,6)", "free-text"],
)
def test_a_widened_bound_is_caught(
    annotation: Any, field: FieldInfo, column: Column[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check fails for a bound past its column (so it cannot pass vacuously)."""
    wide = create_model("Wide", value=(annotation, field))
    monkeypatch.setitem(COLUMNS, (wide, "value"), column)
    with pytest.raises(AssertionError):
        test_bound_fits_the_column((wide, "value", wide.model_fields["value"]))
