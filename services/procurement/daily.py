"""Where workflows and tests import the daily MRP run from; it lives in `mrp/daily.py`."""

from services.procurement.mrp.daily import (
    DailyMrpActivities,
    Projection,
    daily_key,
    project,
    qty_text,
    safety_topup,
)

__all__ = ["DailyMrpActivities", "Projection", "daily_key", "project", "qty_text", "safety_topup"]
