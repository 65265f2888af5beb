"""The `orderflow` subcommands that talk to the HTTP API: orders, tasks, escalations, kpis.

One function per subcommand, as in `app/cli.py`: it names the request and the view, and
`_call` does the rest (where the API is, the token, errors as one line and an exit code,
`--json` or a table). The HTTP client and rich load only when such a command runs.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from shared.settings import DEPARTMENTS, Settings
from shared.types import STAGES

if TYPE_CHECKING:
    from rich.console import RenderableType

    from app.cli_client import Api

# Exit code for a bad invocation, as argparse itself uses.
USAGE_ERROR = 2
# Ctrl-C while waiting for the API, as shells report SIGINT.
INTERRUPTED = 130

STATUSES = ("active", "closed", "declined", "cancelled")


def error(message: str) -> None:
    """One line on stderr, prefixed with the command's name."""
    print(f"orderflow: {message}", file=sys.stderr)


def add_global_options(parser: argparse.ArgumentParser, *, suppress: bool = False) -> None:
    """`--api`, `--token`, `--json`: on the top-level parser with their defaults, and on every
    API subcommand suppressed, so they may come before or after the subcommand."""

    def default(value: object) -> object:
        return argparse.SUPPRESS if suppress else value

    parser.add_argument(
        "--api",
        metavar="URL",
        default=default(None),
        help="the API's base URL (default: $ORDERFLOW_API_URL, else "
        "http://127.0.0.1:$ORDERFLOW_HTTP_PORT)",
    )
    parser.add_argument(
        "--token", default=default(None), help="bearer token (default: $ORDERFLOW_TOKEN)"
    )
    parser.add_argument(
        "--json",
        action="store_true",
        default=default(False),
        help="print the API's JSON instead of tables (for scripts)",
    )


def add_api_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Wire `orders`, `tasks`, `escalations`, `kpis` and `calendar` into the top-level
    subparsers."""
    common = argparse.ArgumentParser(add_help=False)
    add_global_options(common, suppress=True)

    def group(name: str, help: str) -> argparse._SubParsersAction[argparse.ArgumentParser]:
        parser = sub.add_parser(name, help=help, description=help)
        return parser.add_subparsers(metavar="ACTION", required=True)

    def leaf(
        actions: argparse._SubParsersAction[argparse.ArgumentParser],
        name: str,
        command: Callable[[argparse.Namespace, Settings], int],
        help: str,
    ) -> argparse.ArgumentParser:
        parser = actions.add_parser(name, help=help, description=help, parents=[common])
        parser.set_defaults(command=command)
        return parser

    orders = group("orders", "orders: list, one order, its timeline, its lot trace")
    listing = leaf(orders, "list", orders_list_command, "orders, newest first")
    listing.add_argument("--stage", choices=STAGES)
    listing.add_argument("--status", choices=STATUSES)
    listing.add_argument("--limit", type=int, default=100, help="at most this many (100)")
    for name, command, help in (
        ("show", orders_show_command, "one order: stage, plan, milestones, tasks, escalations"),
        ("timeline", orders_timeline_command, "who did what and when on one order"),
        ("trace", orders_trace_command, "the supplier lot of every quantity picked for it"),
    ):
        leaf(orders, name, command, help).add_argument("order_no", metavar="NO")

    tasks = group("tasks", "a department's inbox: list, show, complete")
    listing = leaf(tasks, "list", tasks_list_command, "a department's tasks, earliest due first")
    listing.add_argument("department", metavar="DEPT", choices=DEPARTMENTS)
    listing.add_argument("--state", choices=("open", "done", "withdrawn"))
    listing.add_argument("--order", metavar="NO", help="only this order's tasks")
    listing.add_argument("--kind", help="only this kind, e.g. engineering.contract_review")
    show = leaf(tasks, "show", tasks_show_command, "one task, its context and payload fields")
    done = leaf(tasks, "complete", tasks_complete_command, "complete a task with a JSON payload")
    for parser in (show, done):
        parser.add_argument("department", metavar="DEPT", choices=DEPARTMENTS)
        parser.add_argument("task_id", metavar="TASK_ID")
    done.add_argument(
        "--json-file", required=True, metavar="FILE", help="the payload as JSON; - reads stdin"
    )

    escalations = group("escalations", "escalation events: list, acknowledge")
    listing = leaf(escalations, "list", escalations_list_command, "escalations, newest first")
    listing.add_argument("--state", choices=("open", "acked", "resolved"))
    listing.add_argument("--order", metavar="NO", help="only this order's escalations")
    ack = leaf(escalations, "ack", escalations_ack_command, "acknowledge one (escalated role)")
    ack.add_argument("escalation_id", metavar="ID", type=int)

    kpis = sub.add_parser(
        "kpis",
        help="plan achievement per department, on-time delivery, inspection and DCN SLAs",
        description="GET /kpis for a week and a month (default: the current ones).",
        parents=[common],
    )
    kpis.add_argument("--week", type=_pattern(r"\d{4}-W\d{2}", "2026-W48"))
    kpis.add_argument("--month", type=_pattern(r"\d{4}-\d{2}", "2026-11"))
    kpis.set_defaults(command=kpis_command)

    calendar = group("calendar", "the plant's working calendar: its days, its exceptions")
    show = leaf(calendar, "show", calendar_show_command, "each day: working or off, shifts, why")
    day = _pattern(r"\d{4}-\d{2}-\d{2}", "2026-02-01")
    show.add_argument("--from", dest="start", required=True, type=day, metavar="YYYY-MM-DD")
    show.add_argument("--to", dest="end", required=True, type=day, metavar="YYYY-MM-DD")
    leaf(calendar, "exceptions", calendar_exceptions_command, "the plant's exceptions")


def _pattern(regex: str, example: str) -> Callable[[str], str]:
    def check(text: str) -> str:
        if not re.fullmatch(regex, text):
            raise argparse.ArgumentTypeError(f"{text!r}: write it like {example}")
        return text

    return check


def orders_list_command(args: argparse.Namespace, settings: Settings) -> int:
    """`orderflow orders list`: orders, newest first, by stage and status."""
    from app.cli_views import orders_table

    params = {"stage": args.stage, "status": args.status, "limit": args.limit}
    return _call(args, settings, lambda api: api.get("/orders", params), orders_table)


def orders_show_command(args: argparse.Namespace, settings: Settings) -> int:
    """`orderflow orders show NO`: the whole order view."""
    from app.cli_views import order_detail

    return _call(args, settings, lambda api: api.get(_order(args)), order_detail)


def orders_timeline_command(args: argparse.Namespace, settings: Settings) -> int:
    """`orderflow orders timeline NO`: the order's timeline (`--json`: that list only)."""
    from app.cli_views import timeline_table

    return _call(args, settings, lambda api: api.get(_order(args))["timeline"], timeline_table)


def orders_trace_command(args: argparse.Namespace, settings: Settings) -> int:
    """`orderflow orders trace NO`: every picked quantity back to its supplier lot."""
    from app.cli_views import trace_view

    return _call(
        args,
        settings,
        lambda api: api.get(f"{_order(args)}/trace"),
        trace_view,
        wait=f"tracing {args.order_no} back to its supplier lots",
    )


def tasks_list_command(args: argparse.Namespace, settings: Settings) -> int:
    """`orderflow tasks list DEPT`: the department's inbox."""
    from app.cli_views import tasks_table

    params = {"state": args.state, "order_no": args.order, "kind": args.kind}
    path = f"/{args.department}/tasks"
    return _call(args, settings, lambda api: api.get(path, params), tasks_table)


def tasks_show_command(args: argparse.Namespace, settings: Settings) -> int:
    """`orderflow tasks show DEPT TASK_ID`: one task with the fields its payload takes."""
    from app.cli_views import task_detail

    path = f"/{args.department}/tasks/{quote(args.task_id, safe='')}"
    return _call(args, settings, lambda api: api.get(path), task_detail)


def tasks_complete_command(args: argparse.Namespace, settings: Settings) -> int:
    """`orderflow tasks complete DEPT TASK_ID --json-file FILE`: complete with that payload."""
    from app.cli_views import completion_view

    try:
        payload = _read_payload(args.json_file)
    except ValueError as exc:
        error(str(exc))
        return USAGE_ERROR
    path = f"/{args.department}/tasks/{quote(args.task_id, safe='')}/complete"
    return _call(
        args,
        settings,
        lambda api: api.post(path, payload),
        completion_view,
        wait=f"completing {args.task_id}: waiting for the order's workflow to take it",
    )


def _read_payload(source: str) -> dict[str, Any]:
    """The JSON object in file `source` (`-`: stdin); ValueError saying what is wrong."""
    name = "stdin" if source == "-" else source
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"cannot read the payload file {name}: {exc.strerror or exc}") from exc
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"the payload in {name} is not JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise ValueError(
            f"the payload in {name} must be a JSON object, not {type(payload).__name__}"
        )
    return payload


def escalations_list_command(args: argparse.Namespace, settings: Settings) -> int:
    """`orderflow escalations list`: escalation events, newest first."""
    from app.cli_views import escalations_table

    params = {"state": args.state, "order_no": args.order}
    return _call(args, settings, lambda api: api.get("/escalations", params), escalations_table)


def escalations_ack_command(args: argparse.Namespace, settings: Settings) -> int:
    """`orderflow escalations ack ID`: acknowledge an escalation raised to the token's role."""
    from app.cli_views import acked_view

    path = f"/escalations/{args.escalation_id}/ack"
    return _call(args, settings, lambda api: api.post(path), acked_view)


def kpis_command(args: argparse.Namespace, settings: Settings) -> int:
    """`orderflow kpis`: plan achievement per department and the other KPIs."""
    from app.cli_views import kpis_view

    params = {"week": args.week, "month": args.month}
    return _call(args, settings, lambda api: api.get("/kpis", params), kpis_view)


def calendar_show_command(args: argparse.Namespace, settings: Settings) -> int:
    """`orderflow calendar show --from --to`: each day of the range as the calendar sees it."""
    from app.cli_views import calendar_view

    params = {"from": args.start, "to": args.end}
    return _call(args, settings, lambda api: api.get("/planning/calendar", params), calendar_view)


def calendar_exceptions_command(args: argparse.Namespace, settings: Settings) -> int:
    """`orderflow calendar exceptions`: the plant's days off, extra days and changed shifts."""
    from app.cli_views import exceptions_table

    return _call(
        args, settings, lambda api: api.get("/planning/calendar/exceptions"), exceptions_table
    )


def _order(args: argparse.Namespace) -> str:
    return f"/orders/{quote(args.order_no, safe='')}"


def _call(
    args: argparse.Namespace,
    settings: Settings,
    request: Callable[[Api], Any],
    view: Callable[[Any], RenderableType],
    *,
    wait: str | None = None,
) -> int:
    """Send `request`, then print its JSON (`--json`) or its `view`; a failure is one line
    on stderr and its exit code. `wait` shows a spinner on stderr while the API works."""
    from rich.console import Console

    from app.cli_client import CliError, api_token, api_url, connect

    console = args.console or Console()
    try:
        api = connect(api_url(args.api, settings), api_token(args.token))
        with api.http:
            if wait:
                with Console(stderr=True).status(wait):
                    data = request(api)
            else:
                data = request(api)
    except CliError as exc:
        error(exc.message)
        return exc.code
    except KeyboardInterrupt:
        error("interrupted; a request already sent may still take effect")
        return INTERRUPTED
    if args.json:
        console.file.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        console.file.flush()
    else:
        console.print(view(data))
    return 0
