"""The warehouse's check of a pick named by reference, before its update is sent.

Above 20 lines a picking task names its first lines and their count, and the order keeps no
list to refuse a line against (issue 17: nothing in the order grows with the BOM). So the
API checks such a completion against the order's reservations here, as the workflow checks
a short list itself: every line must be an item reserved and not yet picked for the order,
at most the quantity still to pick, each item once. All problems are answered at once, per
line, so a picker with a 1,000-line list corrects it in one go.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.warehouse.service import material_status
from shared.errors import invalid
from shared.payloads import Payload, Picking
from shared.tasks.schemas import TaskPublic

PICKING = "warehouse.picking"
# The problems listed in one answer (the count says how many there were).
PROBLEMS_LISTED = 100


async def check_picking(session: AsyncSession, task: TaskPublic, payload: Payload) -> None:
    """422 `invalid_payload` naming each line of a by-reference pick that cannot be taken."""
    if not isinstance(payload, Picking) or not task.order_no or "pick_lines" not in task.context:
        return
    status = await material_status(session, task.order_no)
    to_pick = {line.item: line.to_pick for line in status.lines if line.to_pick > 0}
    problems: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, line in enumerate(payload.lines):
        field = f"lines.{index}"
        ready = to_pick.get(line.item)
        if line.item in seen:
            problem = f"{line.item} appears twice; give one line per item"
        elif ready is None:
            problem = f"{line.item} is not on the order's pick list (nothing of it to pick)"
        elif Decimal(str(line.qty_picked)) > ready:
            problem = f"{line.item}: only {ready} is reserved for the order, not {line.qty_picked}"
        else:
            seen.add(line.item)
            continue
        seen.add(line.item)
        problems.append({"field": field, "item": line.item, "problem": problem})
    if problems:
        first = "; ".join(p["problem"] for p in problems[:3])
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise invalid(
            "invalid_payload",
            f"{len(problems)} line(s) of the pick cannot be taken: {first}{more}; "
            f"the order's lines are in GET /orders/{task.order_no} (materials)",
            problems=problems[:PROBLEMS_LISTED],
            problem_count=len(problems),
        )
