"""Query and path parameters every department shares, bounded like the columns they search.

The gateway's input limits (app/limits.py) already refuse control characters and over-long
values in any path or query; these also say the bound in the OpenAPI document and hold when a
router is served without the gateway.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query
from pydantic import AfterValidator

from shared.bounds import KIND_LEN, NAME_LEN, ORDER_NO_LEN, NoControl, refuse_control_characters


def _clean_or_none(value: str | None) -> str | None:
    return None if value is None else refuse_control_characters(value)


_CleanOrNone = AfterValidator(_clean_or_none)

# `/orders/{order_no}` and the like.
OrderNoPath = Annotated[str, Path(min_length=1, max_length=ORDER_NO_LEN), NoControl]
# `?order_no=`: one order's rows.
OrderNoQuery = Annotated[str | None, Query(min_length=1, max_length=ORDER_NO_LEN), _CleanOrNone]
# `?kind=`: a task kind (`engineering.contract_review`).
KindQuery = Annotated[str | None, Query(min_length=1, max_length=KIND_LEN), _CleanOrNone]
# `?customer=`: a substring of the customer's name.
CustomerQuery = Annotated[str | None, Query(max_length=NAME_LEN), _CleanOrNone]

# The largest value of a PostgreSQL `integer` column (ids, revisions): a bigger number in a
# path or query could never match and would overflow the driver.
MAX_INT4 = 2**31 - 1
# `?offset=`: rows to skip in a paged list.
OffsetQuery = Annotated[int, Query(ge=0, le=MAX_INT4)]
# `/escalations/{escalation_id}` and the like: a row id.
IdPath = Annotated[int, Path(ge=1, le=MAX_INT4)]
# `?revision=`: a BOM revision.
RevisionQuery = Annotated[int | None, Query(ge=1, le=MAX_INT4)]
