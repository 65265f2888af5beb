"""MRP: the pure netting rules (`rules`), their types (`schemas`), an order's material as a
run reads and stores it (`service`), MRP on a design or customer change (`changes`) and the
daily run (`daily`).

The rules' public names are re-exported here, so `from services.procurement import mrp` and
`mrp.plan(...)` read as they did when MRP was one module.
"""

from services.procurement.mrp.keys import proposal_key
from services.procurement.mrp.rules import delta, explode, plan
from services.procurement.mrp.schemas import (
    ZERO,
    BomItem,
    MakeOrBuy,
    MrpDelta,
    MrpLine,
    MrpResult,
    Reason,
    RequisitionProposal,
    Supply,
    WorkOrderProposal,
)

__all__ = [
    "ZERO",
    "BomItem",
    "MakeOrBuy",
    "MrpDelta",
    "MrpLine",
    "MrpResult",
    "Reason",
    "RequisitionProposal",
    "Supply",
    "WorkOrderProposal",
    "delta",
    "explode",
    "plan",
    "proposal_key",
]
