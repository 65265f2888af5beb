"""PlanReportWorkflow (PROCESS "KPIs the factory reads"): what the weekly and monthly
plan-report Temporal Schedules run.

It computes a period's plan achievement per department, stores it (`planning.reports`, a re-run
replaces it) and sends it as a `plan_report` event to the channels its routes name (before
channels: POSTed, signed, to every event webhook until each answered 2xx). Without a
period in its input it reports the one its schedule means: the ISO week before the one it was
scheduled in (weekly: the Friday run reports last week, §2.3), or the month before (monthly),
both taken at the plant's local date (its input's `zone`). It runs on every day it is
scheduled, working or not: a report is data nobody has to act on.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from temporalio import workflow
from temporalio.common import SearchAttributeKey
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from services.planning.report_schemas import (
        PlanReportInput,
        PlanReportRequest,
        PlanReportResult,
        PublishPlanReport,
    )
    from services.planning.reports import PlanReportActivities, report_event_of
    from shared.channels.model import PLAN_REPORT
    from shared.escalations.activities import EscalationActivities
    from shared.escalations.delivery_types import PlanEventDeliveries
    from shared.periods import (
        InvalidPeriod,
        Period,
        local_date,
        parse_period,
        previous_month,
        previous_week,
    )
    from shared.temporal import department_queue
    from workflows.common import DB_HEARTBEAT, DB_RETRY, DB_TIMEOUT, WEBHOOK_RETRY, WEBHOOK_TIMEOUT
    from workflows.escalation import CHANNELS_PATCH, raise_failing_channels, send_all

# Set by Temporal on a workflow a schedule starts: the time the action was due (a run started
# late, after an outage, still reports the period it was meant for).
SCHEDULED_START = SearchAttributeKey.for_datetime("TemporalScheduledStartTime")


def _scheduled_time() -> datetime:
    return workflow.info().typed_search_attributes.get(SCHEDULED_START) or workflow.now()


def _period(inp: PlanReportInput) -> Period:
    if inp.period is not None:
        try:
            return parse_period(inp.kind, inp.period)
        except InvalidPeriod as exc:
            raise ApplicationError(str(exc), type="InvalidPeriod", non_retryable=True) from None
    day = local_date(_scheduled_time(), inp.zone)
    return previous_week(day, inp.zone) if inp.kind == "week" else previous_month(day, inp.zone)


@workflow.defn
class PlanReportWorkflow:
    """One plan-achievement report: compute, store, publish."""

    @workflow.run
    async def run(self, inp: PlanReportInput) -> PlanReportResult:
        period = _period(inp)
        queue = department_queue(inp.queue_prefix, "planning")
        name = f"plan report {period.kind} {period.label}"
        workflow.set_current_details(f"**{name}**: computing plan achievement per department")
        at = workflow.now()
        report = await workflow.execute_activity_method(
            PlanReportActivities.store_plan_report,
            PlanReportRequest(kind=period.kind, period=period.label, at=at),
            task_queue=queue,
            start_to_close_timeout=DB_TIMEOUT,
            heartbeat_timeout=DB_HEARTBEAT,
            retry_policy=DB_RETRY,
            summary=f"{name}: compute plan achievement per department and store it",
        )
        if workflow.patched(CHANNELS_PATCH):
            report.published_to = await self._publish(report, at, queue, name)
            return report
        urls = await workflow.execute_activity_method(
            PlanReportActivities.event_webhook_targets,
            task_queue=queue,
            start_to_close_timeout=DB_TIMEOUT,
            heartbeat_timeout=DB_HEARTBEAT,
            retry_policy=DB_RETRY,
            summary="read the event webhook URLs",
        )
        workflow.set_current_details(f"**{name}**: stored; publishing to {len(urls)} webhook(s)")
        await asyncio.gather(
            *(
                workflow.execute_activity_method(
                    PlanReportActivities.publish_plan_report,
                    PublishPlanReport(kind=period.kind, period=period.label, url=url),
                    task_queue=queue,
                    start_to_close_timeout=WEBHOOK_TIMEOUT,
                    retry_policy=WEBHOOK_RETRY,
                    summary=f"{name}: POST to event webhook {n} of {len(urls)}",
                )
                for n, url in enumerate(urls, start=1)
            )
        )
        workflow.set_current_details(f"**{name}**: stored and published to {len(urls)} webhook(s)")
        report.published_to = urls
        return report

    async def _publish(
        self, report: PlanReportResult, at: datetime, queue: str, name: str
    ) -> list[str]:
        """Send the report as a `plan_report` event to the channels its routes name (a re-run
        is news of its own: its run id keys it); the channels' names."""
        key = f"{report.kind}-{report.period}-{workflow.info().run_id[:8]}"
        planned = await workflow.execute_activity_method(
            EscalationActivities.plan_event_deliveries,
            PlanEventDeliveries(event=PLAN_REPORT, key=key, content=report_event_of(report, at)),
            task_queue=queue,
            start_to_close_timeout=DB_TIMEOUT,
            heartbeat_timeout=DB_HEARTBEAT,
            retry_policy=DB_RETRY,
            summary=f"{name}: route to its channels",
        )
        names = [p.channel for p in planned]
        workflow.set_current_details(
            f"**{name}**: stored; sending to {', '.join(names) or 'no channel'}"
        )
        outcomes = await send_all(planned, queue=queue, what=name)
        workflow.set_current_details(
            f"**{name}**: stored; "
            + (", ".join(f"{o.channel} {o.state}" for o in outcomes) or "sent to no channel")
        )
        await raise_failing_channels(outcomes, department="planning", queue=queue)
        return names
