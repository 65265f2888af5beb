"""Query and path parameters every department shares, bounded like the columns they search.

The gateway's input limits (app/limits.py) already refuse control characters and over-long
values in any path or query; these also say the bound in the OpenAPI document and hold when a
router is served without the gateway.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from shared.bounds import KIND_LEN, NAME_LEN, ORDER_NO_LEN, Text

# `/orders/{order_no}` and the like.
OrderNoPath = Annotated[Text, Path(min_length=1, max_length=ORDER_NO_LEN)]
# `?order_no=`: one order's rows.
OrderNoQuery = Annotated[Text | None, Query(min_length=1, max_length=ORDER_NO_LEN)]
# `?kind=`: a task kind (`engineering.contract_review`).
KindQuery = Annotated[Text | None, Query(min_length=1, max_length=KIND_LEN)]
# `?customer=`: a substring of the customer's name.
CustomerQuery = Annotated[Text | None, Query(max_length=NAME_LEN)]
