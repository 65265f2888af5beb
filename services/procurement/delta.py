"""Where workflows import MRP on a design or customer change from (it lives in
`mrp/changes.py`)."""

from services.procurement.mrp.changes import DcnMrpActivities, MrpDeltaResult, MrpDeltaRun

__all__ = ["DcnMrpActivities", "MrpDeltaResult", "MrpDeltaRun"]
