"""Customer progress notices (shared/notices.py): the sales activity that puts a notice on the
order's timeline and plans its deliveries to the channels routed for `customer_notice`, in one
transaction; the workflow then sends them (workflows/notices.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from temporalio import activity

from shared.activities import DbActivities
from shared.channels.links import order_url
from shared.channels.model import CUSTOMER_NOTICE
from shared.db import session_scope
from shared.escalations import deliveries
from shared.escalations.delivery_types import PlannedDelivery
from shared.escalations.notify import event_delivery_id
from shared.notices import CustomerNotice
from shared.timeline import add_event

# The department a customer notice belongs to (a route's `department` filter): sales keeps
# the customer informed.
NOTICE_DEPARTMENT = "sales"


class NoticeActivities(DbActivities):
    """Customer notices; the worker registers the bound method on the sales queue."""

    @activity.defn
    async def record_customer_notice(self, notice: CustomerNotice) -> list[PlannedDelivery]:
        """Put the notice on the timeline and plan one delivery per routed channel (both once,
        however often this runs); the deliveries to send."""
        names = self._settings.channel_book().for_event(
            CUSTOMER_NOTICE, department=NOTICE_DEPARTMENT
        )
        content = notice.content(order_url(self._settings, notice.order_no))
        key = f"{notice.order_no}-{notice.key}"
        planned = [
            deliveries.Planned(
                delivery_id=event_delivery_id(CUSTOMER_NOTICE, key, name),
                channel=name,
                event=CUSTOMER_NOTICE,
                content=content,
            )
            for name in names
        ]
        async with session_scope(self._engine) as session:
            await add_event(
                session,
                key=f"{notice.order_no}:{CUSTOMER_NOTICE}:{notice.key}",
                order_no=notice.order_no,
                at=notice.at,
                kind=CUSTOMER_NOTICE,
                actor=notice.by,
                summary=notice.summary(),
                detail=notice.model_dump(mode="json"),
            )
            await deliveries.plan(session, planned, at=datetime.now(UTC))
        return [PlannedDelivery(delivery_id=p.delivery_id, channel=p.channel) for p in planned]
