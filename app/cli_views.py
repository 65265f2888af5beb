"""The `orderflow` command's views: each function turns one API answer into a rich renderable
(built from the tables of `app/cli_tables.py`).

Views take the JSON as the API sends it and show what a person at a desk needs; `--json`
skips them. Sections whose fields grow (the KPIs) are rendered generically, key by key, so a
field the API adds shows up without a change here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from rich.console import Group, RenderableType
from rich.json import JSON
from rich.text import Text

from app.cli_tables import NONE, cell, flag, key_values, rate, table

# What the trace shows of each picked lot, after its item.
LOT_COLUMNS = ["lot_no", "qty", "source", "supplier", "supplier_lot", "po_no", "receipt_no"]


def orders_table(orders: list[dict[str, Any]]) -> RenderableType:
    """`GET /orders`: one line per order."""
    return table(
        "orders",
        ["order", "customer", "project", "stage", "status", "due", "late", "open tasks"],
        (
            [
                o["order_no"],
                o.get("customer"),
                o.get("project_name"),
                o.get("stage"),
                o.get("status"),
                o.get("due_date") or o.get("requested_date"),
                flag(o.get("late")),
                o.get("open_task_count"),
            ]
            for o in orders
        ),
        empty="no orders match",
    )


def order_detail(view: dict[str, Any]) -> RenderableType:
    """`GET /orders/{no}`: the order's facts, lines, milestones, open tasks and escalations."""
    facts = {
        "order": view["order_no"],
        "customer": view.get("customer"),
        "project": view.get("project_name"),
        "contract": view.get("contract_no"),
        "stage": view.get("stage"),
        "status": f"{view.get('status')}"
        + (f" ({view['status_reason']})" if view.get("status_reason") else ""),
        "amount": f"{view.get('amount')} {view.get('currency', '')}".strip(),
        "requested": view.get("requested_date"),
        "due": view.get("due_date"),
        "late": view.get("late"),
        "plan revision": (view.get("plan") or {}).get("revision"),
        "workflow": view.get("workflow_id"),
    }
    parts: list[RenderableType] = [key_values(f"order {view['order_no']}", facts)]
    parts.append(
        table(
            "lines",
            ["#", "item", "description", "qty", "unit"],
            (
                [x["line_no"], x["item"], x["description"], x["qty"], x["unit"]]
                for x in view["lines"]
            ),
        )
    )
    parts.append(milestones_table(view.get("milestones", [])))
    parts.append(tasks_table(view.get("open_tasks", []), title="open tasks"))
    parts.append(escalations_table(view.get("escalations", [])))
    if view.get("materials"):
        parts.append(materials_table(view["materials"]))
    for name, key, columns in (
        ("issues", "issues", ["issue_no", "kind", "severity", "state", "description"]),
        ("customer changes", "changes", ["change_no", "kind", "state", "outcome", "detail"]),
    ):
        if view.get(key):
            parts.append(table(name, columns, ([x.get(c) for c in columns] for x in view[key])))
    return Group(*parts)


def milestones_table(milestones: list[dict[str, Any]]) -> RenderableType:
    """The plan's milestones: planned, forecast, actual, late ones flagged."""
    return table(
        "milestones",
        ["milestone", "owner", "planned", "forecast", "actual", "late"],
        (
            [m["name"], m["owner"], m["planned"], m["forecast"], m["actual"], flag(m["late"])]
            for m in milestones
        ),
        empty="no master plan yet",
    )


def materials_table(materials: list[dict[str, Any]]) -> RenderableType:
    """The order's material per item: required, reserved, picked, missing, on order."""
    columns = ["item", "required", "reserved", "picked", "missing", "pending_inspection"]
    columns += ["on_order", "promised_date"]
    return table("materials", columns, ([m.get(c) for c in columns] for m in materials))


def timeline_table(entries: list[dict[str, Any]]) -> RenderableType:
    """The order's timeline, oldest first: when, what, who."""
    return table(
        "timeline",
        ["at", "kind", "actor", "summary"],
        ([e["at"], e["kind"], e["actor"], e["summary"]] for e in entries),
        empty="nothing happened yet",
    )


def trace_view(trace: dict[str, Any]) -> RenderableType:
    """`GET /orders/{no}/trace`: per item what was picked, and from which supplier lots."""
    complete = trace.get("complete_traceability")
    headline = Text.assemble(
        f"order {trace['order_no']}: ",
        ("every picked quantity traces to a lot", "green")
        if complete
        else ("some picked quantity traces to no lot", "bold red"),
    )
    parts: list[RenderableType] = [headline]
    parts.append(
        table(
            "items",
            ["item", "required", "reserved", "picked", "untraced"],
            (
                [i["item"], i["required"], i["reserved"], i["picked"], i["untraced"]]
                for i in trace["items"]
            ),
            empty="the order needs nothing from stock",
        )
    )
    parts.append(
        table(
            "picked lots",
            ["item", *LOT_COLUMNS, "inspected_by"],
            (
                [item["item"], *(lot.get(c) for c in LOT_COLUMNS), lot.get("inspected_by")]
                for item in trace["items"]
                for lot in item["lots"]
            ),
            empty="nothing picked yet",
        )
    )
    return Group(*parts)


def tasks_table(tasks: list[dict[str, Any]], *, title: str = "tasks") -> RenderableType:
    """An inbox: one line per task, overdue ones flagged with their escalation level."""
    return table(
        title,
        ["task", "kind", "order", "title", "state", "due", "overdue"],
        (
            [
                t["task_id"],
                t["kind"],
                t.get("order_no"),
                t.get("title"),
                t.get("state"),
                t.get("due_at"),
                flag(t.get("overdue"), f"level {t.get('escalation_level', 0)}"),
            ]
            for t in tasks
        ),
        empty="no tasks",
    )


def task_detail(task: dict[str, Any]) -> RenderableType:
    """`GET /{dept}/tasks/{id}`: the task, its context and the payload that completes it."""
    facts = {
        key: task.get(key)
        for key in ("task_id", "kind", "department", "order_no", "title", "state")
    } | {
        "created": task.get("created_at"),
        "due": task.get("due_at"),
        "overdue": task.get("overdue"),
        "escalation level": task.get("escalation_level"),
        "completed": task.get("completed_at"),
        "completed by": task.get("completed_by"),
        "who may complete": task.get("completer_roles"),
    }
    parts: list[RenderableType] = [key_values(f"task {task['task_id']}", facts)]
    parts.append(Text("context", style="bold"))
    parts.append(JSON.from_data(task.get("context") or {}, default=str))
    if task.get("payload") is not None:
        parts.append(Text("payload", style="bold"))
        parts.append(JSON.from_data(task["payload"], default=str))
    if task.get("payload_schema"):
        parts.append(payload_fields(task["payload_schema"]))
    return Group(*parts)


def payload_fields(schema: dict[str, Any]) -> RenderableType:
    """The top-level fields of a payload's JSON schema: name, type, required."""
    required = set(schema.get("required", []))
    return table(
        "payload fields",
        ["field", "type", "required"],
        (
            [name, _schema_type(spec), name in required]
            for name, spec in schema.get("properties", {}).items()
        ),
        empty="the schema names no fields",
    )


def _schema_type(spec: dict[str, Any]) -> str:
    if "enum" in spec:
        return " | ".join(str(v) for v in spec["enum"])
    if "anyOf" in spec:
        return " | ".join(_schema_type(s) for s in spec["anyOf"])
    if "$ref" in spec:
        return str(spec["$ref"]).rsplit("/", 1)[-1]
    kind = str(spec.get("type", "any"))
    if kind == "array" and isinstance(spec.get("items"), dict):
        return f"[{_schema_type(spec['items'])}]"
    return f"{kind} ({spec['format']})" if "format" in spec else kind


def completion_view(result: dict[str, Any]) -> RenderableType:
    """What a completion answers: the order now (stage, open tasks), or the task itself."""
    if "stage" not in result:
        return Group(Text("completed", style="green"), task_detail(result))
    headline = Text.assemble(
        ("completed", "green"),
        f": order {result['order_no']} is in stage {result['stage']} ({result['status']})",
    )
    return Group(headline, tasks_table(result.get("open_tasks", []), title="open tasks"))


def escalations_table(escalations: list[dict[str, Any]]) -> RenderableType:
    """Escalation events, newest first."""
    return table(
        "escalations",
        ["id", "kind", "level", "order", "department", "to", "breached", "state", "message"],
        (
            [
                e["id"],
                e["kind"],
                e["level"],
                e.get("order_no"),
                e.get("department"),
                e.get("role"),
                e.get("breached_at"),
                f"{e.get('state')}" + (f" by {e['acked_by']}" if e.get("acked_by") else ""),
                e.get("message"),
            ]
            for e in escalations
        ),
        empty="no escalations",
    )


def acked_view(escalation: dict[str, Any]) -> RenderableType:
    """An acknowledged escalation, in one line."""
    return Text(
        f"escalation {escalation['id']} ({escalation['kind']}, order {escalation['order_no']}) "
        f"acknowledged by {escalation.get('acked_by')} at {cell(escalation.get('acked_at'))}"
    )


def kpis_view(kpis: dict[str, Any]) -> RenderableType:
    """`GET /kpis`: plan achievement per department and period, every other section as is."""
    parts: list[RenderableType] = [
        Text(f"KPIs: week {kpis.get('week', NONE)}, month {kpis.get('month', NONE)}", style="bold")
    ]
    achievement = kpis.get("plan_achievement") or {}
    for period, rows in achievement.items():
        if isinstance(rows, list):
            parts.append(_achievement_table(f"plan achievement ({period})", rows))
        else:
            parts.append(key_values(f"plan achievement ({period})", {period: rows}))
    for section, value in kpis.items():
        if section in ("week", "month", "plan_achievement"):
            continue
        title = section.replace("_", " ")
        mapping = value if isinstance(value, Mapping) else {section: value}
        parts.append(key_values(title, mapping))
    return Group(*parts)


def _achievement_table(title: str, rows: list[dict[str, Any]]) -> RenderableType:
    known = ["department", "due", "met", "rate"]
    extra = [k for k in dict.fromkeys(k for row in rows for k in row) if k not in known]
    return table(
        title,
        [*known, *extra],
        (
            [
                *(rate(r.get(k)) if k == "rate" else r.get(k) for k in known),
                *(r.get(k) for k in extra),
            ]
            for r in rows
        ),
        empty="no milestones were due",
    )


def calendar_view(calendar: dict[str, Any]) -> RenderableType:
    """`GET /planning/calendar`: one line per day, working or off, its shifts and why."""
    basis = f"zone {calendar.get('zone')}, version {calendar.get('version')}, "
    basis += f"clocks count {calendar.get('basis')} time"
    if calendar.get("official_through") is not None:
        basis += f", public holidays official through {calendar['official_through']}"
    days = table(
        None,
        ["date", "day", "working", "shifts", "note", "official"],
        (
            [
                d["date"],
                f"{datetime.fromisoformat(d['date']):%a}",
                Text("working") if d.get("working") else Text("off", style="bold"),
                d.get("shifts"),
                d.get("note"),
                "yes" if d.get("official") else Text("by rule", style="yellow"),
            ]
            for d in calendar.get("days", [])
        ),
        empty="no days",
    )
    return Group(Text(basis, style="dim"), days)


def exceptions_table(exceptions: list[dict[str, Any]]) -> RenderableType:
    """`GET /planning/calendar/exceptions`: one line per exception."""
    return table(
        "calendar exceptions",
        ["id", "kind", "start", "end", "shifts", "reason", "by"],
        (
            [
                e["id"],
                e["kind"],
                e["start"],
                e["end"],
                e.get("shifts"),
                e["reason"],
                e["created_by"],
            ]
            for e in exceptions
        ),
        empty="none: the calendar is the settings and the public holidays",
    )
