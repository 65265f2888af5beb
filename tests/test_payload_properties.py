"""Property test: every task kind's payload model, fed hypothesis-generated values.

Valid edge values (lengths at and past their bound, quantities at the column's precision, dates
at the horizon) and invalid ones (wrong types, huge numbers, NaN/Infinity, zero and negative
quantities, long strings, control characters, far dates, extra fields): the model validates or
raises a pydantic ValidationError, never another exception, and what validates can be stored
(tests/test_bounds_fit_columns.py's column map; the raw payload itself is storable JSONB).
A smaller HTTP variant posts generated bad payloads to open tasks of one live stack: 422,
never 5xx, and the tasks then complete with valid payloads.
"""

from __future__ import annotations

import json
import re
import types
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Literal, Union, get_args, get_origin

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from sqlalchemy import Integer, Numeric

from shared.bounds import (
    EARLIEST_DATE,
    EXTRA_BYTES_MAX,
    FREE_TEXT_LEN,
    HORIZON_YEARS,
    NumericFit,
)
from shared.payloads import Part, Payload
from shared.tasks.kinds import TASK_KINDS
from tests.conftest import Stack
from tests.helpers import complete_ok, create_order, wait_task
from tests.test_bounds_fit_columns import COLUMNS, INT4_MAX

TODAY = date.today()
HORIZON = TODAY.replace(year=TODAY.year + HORIZON_YEARS, day=min(TODAY.day, 28))
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")

# -- strategies --------------------------------------------------------------------------

_text_chars = st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"])
_nasty_chars = st.sampled_from(["\x00", "\x01", "\x1b", "\x7f", "\x85", "\ud800", "\t", "é", "中"])
_long = st.builds(lambda c, n: c * n, st.sampled_from(["x", "\x00", "é"]), st.integers(0, 5000))
_iso = st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(date.isoformat)
_scalar_junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.sampled_from([10**12, -1, 0, 2**31, 2**63]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e-9, -5.0, 0.0, 1e15, 1e300, float("nan"), float("inf"), -float("inf")]),
    st.text(_nasty_chars | _text_chars, max_size=20),
    _long,
    _iso,
    st.sampled_from(["9999-12-31", "1999-12-31", "0001-01-01", "2026-02-30", "10", "true"]),
)
JUNK = st.recursive(
    _scalar_junk,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


def _flat(items: Any) -> list[Any]:
    out = []
    for item in items:
        out.append(item)
        if isinstance(item, FieldInfo):
            out.extend(item.metadata)
    return out


def _bound(metadata: list[Any], name: str) -> Any:
    values = [getattr(m, name) for m in metadata if getattr(m, name, None) is not None]
    return min(values) if values else None


def edge_values(annotation: Any, metadata: list[Any]) -> st.SearchStrategy[Any]:
    """Valid and just-invalid values of one field's type: at and around its bounds."""
    origin = get_origin(annotation)
    if hasattr(annotation, "__metadata__"):
        return edge_values(get_args(annotation)[0], metadata + _flat(annotation.__metadata__))
    if origin in (Union, types.UnionType):
        return st.one_of([edge_values(arg, metadata) for arg in get_args(annotation)])
    if annotation is type(None):
        return st.none()
    if annotation is bool:
        return st.booleans()
    if annotation is int:
        upper = _bound(metadata, "le") or 10
        return st.integers(-1, upper + 1) | st.sampled_from([0, upper, upper + 1])
    if annotation is float:
        fits = [m for m in metadata if isinstance(m, NumericFit)]
        digits = fits[0].integer_digits if fits else 6
        places = fits[0].scale if fits else 4
        top = Decimal(10) ** digits - Decimal(1).scaleb(-places)
        return st.decimals(-1, top, places=places).map(float) | st.sampled_from(
            [0.0, 10.0**-places, float(top), 10.0**digits, 10.0 ** -(places + 1)]
        )
    if annotation is str:
        longest = _bound(metadata, "max_length") or 50
        # Mostly valid lengths, so that nested payloads validate often enough to be checked.
        valid = st.integers(1, min(longest, 40))
        sizes = st.one_of(valid, valid, valid, st.sampled_from([0, longest, longest + 1]))
        repeated = st.builds(lambda n, c: c * n, sizes, st.sampled_from(["A", "é", "中"]))
        return repeated | st.text(_text_chars, max_size=20)
    if annotation is date:
        days = (HORIZON - EARLIEST_DATE).days
        return st.integers(-1, days + 1).map(lambda n: (EARLIEST_DATE + timedelta(n)).isoformat())
    if origin is Literal:
        return st.sampled_from(get_args(annotation))
    if origin is list:
        return st.lists(edge_values(get_args(annotation)[0], []), max_size=3)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return model_values(annotation)
    return JUNK


def model_values(model: type[BaseModel]) -> st.SearchStrategy[dict[str, Any]]:
    """Dicts with every required field of `model` and some optional ones, at edge values."""
    fields = model.model_fields
    required = {
        n: edge_values(f.annotation, _flat(f.metadata))
        for n, f in fields.items()
        if f.is_required()
    }
    optional = {
        n: edge_values(f.annotation, _flat(f.metadata))
        for n, f in fields.items()
        if not f.is_required()
    }
    return st.fixed_dictionaries(required, optional=optional)


def payloads(model: type[Payload]) -> st.SearchStrategy[Any]:
    """Edge-valued payloads, the same with one field (or a new one) junk, and plain junk."""
    names = sorted(model.model_fields)
    mutated = st.tuples(
        model_values(model),
        st.sampled_from(names) | st.text(_nasty_chars | _text_chars, max_size=70),
        JUNK,
    ).map(lambda t: {**t[0], t[1]: t[2]})
    return st.one_of(model_values(model), mutated, mutated, JUNK)


# -- what validates can be stored --------------------------------------------------------


def assert_storable(instance: BaseModel) -> None:
    """Every field of `instance` (nested parts included) fits the column it lands in."""
    model = type(instance)
    for name in model.model_fields:
        value = getattr(instance, name)
        column = COLUMNS.get((model, name))
        for leaf in value if isinstance(value, list) else [value]:
            if isinstance(leaf, Part):
                assert_storable(leaf)
            elif isinstance(leaf, str):
                assert not CONTROL.search(leaf), f"{model.__name__}.{name}"
                limit = getattr(column.type, "length", None) if column is not None else None
                assert len(leaf) <= (limit or FREE_TEXT_LEN), f"{model.__name__}.{name}"
            elif isinstance(leaf, bool) or leaf is None:
                pass
            elif isinstance(leaf, int):
                if column is not None and isinstance(column.type, Integer):
                    assert abs(leaf) <= INT4_MAX, f"{model.__name__}.{name}"
            elif isinstance(leaf, float | Decimal):
                assert column is not None and isinstance(column.type, Numeric)
                exact = Decimal(str(leaf))
                precision, scale = column.type.precision, column.type.scale
                assert precision is not None and scale is not None
                assert exact.is_finite()
                assert exact == exact.quantize(Decimal(1).scaleb(-scale)), (
                    f"{model.__name__}.{name}"
                )
                assert exact == 0 or exact.adjusted() < precision - scale, (
                    f"{model.__name__}.{name}"
                )
            elif isinstance(leaf, date):
                assert EARLIEST_DATE <= leaf <= HORIZON + timedelta(days=1), (
                    f"{model.__name__}.{name}"
                )
    extra = instance.__pydantic_extra__ or {}
    assert len(json.dumps(extra, ensure_ascii=False).encode()) <= EXTRA_BYTES_MAX


def assert_raw_storable(data: Any) -> None:
    """The raw payload (what the task's JSONB column keeps): finite numbers, clean UTF-8."""
    text = json.dumps(data, allow_nan=False, ensure_ascii=False)
    assert "\x00" not in text
    text.encode("utf-8")


KINDS = sorted(TASK_KINDS)


@pytest.mark.parametrize("kind", KINDS)
def test_a_payload_validates_into_something_storable_or_is_a_validation_error(kind: str) -> None:
    model = TASK_KINDS[kind].payload

    @settings(
        max_examples=60,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(data=payloads(model))
    def check(data: Any) -> None:
        try:
            parsed = model.parse(data, today=TODAY)
        except ValidationError:
            return
        assert_storable(parsed)
        assert_raw_storable(data)

    check()


# -- over HTTP ---------------------------------------------------------------------------


def sample(strategy: st.SearchStrategy[Any], count: int) -> list[Any]:
    """`count` examples of `strategy`, reproducibly (hypothesis's generation, no shrinking)."""
    drawn: list[Any] = []

    @settings(
        max_examples=count,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(value: Any) -> None:
        drawn.append(value)

    collect()
    return drawn


def refused_locally(kind: str) -> st.SearchStrategy[Any]:
    model = TASK_KINDS[kind].payload

    def invalid(data: Any) -> bool:
        try:
            model.parse(data, today=TODAY)
        except ValidationError:
            return True
        return False

    return payloads(model).filter(invalid)


async def test_generated_bad_payloads_over_http_are_422_and_the_tasks_still_complete(
    stack: Stack,
) -> None:
    order_no = await create_order(stack)
    bad = [
        ("engineering.contract_review", p)
        for p in sample(refused_locally("engineering.contract_review"), 15)
    ]
    bad += [
        ("procurement.lead_time_review", p)
        for p in sample(refused_locally("procurement.lead_time_review"), 15)
    ]
    for kind, payload in bad:
        task = await wait_task(stack, kind, order_no)
        dept = kind.split(".")[0]
        response = await stack.http.post(
            f"/{dept}/tasks/{task['task_id']}/complete",
            content=json.dumps(payload).encode(),
            headers={**stack.token("worker-1", dept), "Content-Type": "application/json"},
        )
        assert response.status_code == 422, (payload, response.status_code, response.text)
        assert response.headers["content-type"].startswith("application/json")
        assert {"error", "detail"} <= set(response.json())
    await complete_ok(stack, "procurement.lead_time_review", order_no, {"lead_days": 30})
    await complete_ok(
        stack, "engineering.contract_review", order_no, {"ok": True, "design_days": 8}
    )
    await wait_task(stack, "planning.delivery_review", order_no)
