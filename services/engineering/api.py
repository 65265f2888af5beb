"""Engineering routes: its inbox, BOM drafts, and the released BOM and drawings every
receiver reads."""

from __future__ import annotations

from fastapi import APIRouter

from services.engineering.activities import BOM_RECIPIENTS, DRAWING_RECIPIENTS
from services.engineering.draft_api import check_release, draft_router
from services.engineering.schemas import BomPublic, DrawingPublic
from services.engineering.service import released_bom, released_drawings
from services.tasks.api import inbox_readers, task_router
from shared.deps import CurrentUser, SessionDep
from shared.errors import not_found
from shared.params import RevisionQuery

router = APIRouter(prefix="/engineering", tags=["engineering"])
router.include_router(task_router("engineering", {"engineering.release_bom": check_release}))
router.include_router(draft_router)


def release_router(department: str) -> APIRouter:
    """`/orders/{order_no}/bom` and `/drawings` for a department that receives them (§3.1-3.2)."""
    release = APIRouter(tags=[f"{department} releases"])
    readers = inbox_readers(department)

    if department == "engineering" or department in BOM_RECIPIENTS:

        @release.get("/orders/{order_no}/bom", response_model=BomPublic)
        async def get_bom(
            order_no: str,
            session: SessionDep,
            user: CurrentUser,
            revision: RevisionQuery = None,
        ) -> BomPublic:
            """The order's released BOM: the newest revision, or the one asked for."""
            user.require(readers, f"reading {department}'s copy of the BOM")
            bom = await released_bom(session, order_no, revision)
            if bom is None:
                which = f"revision {revision} of " if revision else ""
                raise not_found(f"a released {which}BOM of order {order_no}")
            return bom

    if department == "engineering" or department in DRAWING_RECIPIENTS:

        @release.get("/orders/{order_no}/drawings", response_model=list[DrawingPublic])
        async def get_drawings(
            order_no: str, session: SessionDep, user: CurrentUser
        ) -> list[DrawingPublic]:
            """The drawings released for the order (empty until engineering releases them)."""
            user.require(readers, f"reading {department}'s copy of the drawings")
            return await released_drawings(session, order_no)

    return release


router.include_router(release_router("engineering"))
