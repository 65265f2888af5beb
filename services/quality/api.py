"""Quality routes: the inbox, what engineering released to it, the inspection basis."""

from __future__ import annotations

from fastapi import APIRouter

from services.engineering.api import release_router
from services.quality.schemas import InspectionBasis
from services.quality.service import inspection_basis
from services.tasks.api import inbox_readers, task_router
from shared.deps import CurrentUser, SessionDep
from shared.errors import not_found

router = APIRouter(prefix="/quality", tags=["quality"])
router.include_router(task_router("quality"))
router.include_router(release_router("quality"))


@router.get("/orders/{order_no}/inspection-basis", response_model=InspectionBasis)
async def get_inspection_basis(
    order_no: str, session: SessionDep, user: CurrentUser
) -> InspectionBasis:
    """What quality inspects the order against: agreement, drawings, bought-in items (§3.3)."""
    user.require(inbox_readers("quality"), "reading the inspection basis")
    basis = await inspection_basis(session, order_no)
    if basis is None:
        raise not_found(f"order {order_no}")
    return basis
