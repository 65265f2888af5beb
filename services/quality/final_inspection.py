"""Quality's record of the final inspection (P9, §11): each round kept, on the order's
timeline; the first-pass yield reads round 1."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert
from temporalio import activity

from services.quality.models import FinalInspection
from shared.activities import DbActivities
from shared.db import session_scope
from shared.production_types import FinalInspectionRound
from shared.timeline import add_event


class FinalInspectionActivities(DbActivities):
    """The final inspection's rounds; the worker registers the bound methods."""

    @activity.defn
    async def record_final_inspection(self, inspection: FinalInspectionRound) -> None:
        """Keep one round of the final inspection (P9.2): first-pass yield reads round 1."""
        async with session_scope(self._engine) as session:
            await session.execute(
                insert(FinalInspection)
                .values(
                    order_no=inspection.order_no,
                    round=inspection.round,
                    passed=inspection.passed,
                    defects=inspection.defects,
                    inspected_by=inspection.by,
                    inspected_at=inspection.at,
                )
                .on_conflict_do_nothing(index_elements=["order_no", "round"])
            )
            found = "; ".join(str(d["description"]) for d in inspection.defects)
            verdict = (
                "passed" if inspection.passed else f"{len(inspection.defects)} defect(s): {found}"
            )
            await add_event(
                session,
                key=f"{inspection.order_no}:final_inspection:{inspection.round}",
                order_no=inspection.order_no,
                at=inspection.at,
                kind="final_inspection",
                actor=inspection.by,
                summary=f"final inspection round {inspection.round}: {verdict}",
                detail={"round": inspection.round, "defects": inspection.defects},
            )
