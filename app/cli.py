"""The `orderflow` command: run the system, mint dev tokens, apply migrations, and read and
move orders through the HTTP API (`orders`, `tasks`, `escalations`, `kpis`, `calendar`, in
`app/cli_commands.py`).

Each subcommand is a function taking the parsed arguments and the settings and returning the
exit code; `_parser()` wires them up, so a new subcommand is one function and one parser.
Subcommands import what they need when they run, so `orderflow token` does not pay for
loading Temporal, Alembic and the web stack.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from pydantic import ValidationError

from app.cli_commands import USAGE_ERROR, add_api_commands, add_global_options, error
from shared.settings import Settings, get_settings

if TYPE_CHECKING:
    from rich.console import Console

Command = Callable[[argparse.Namespace, Settings], int]


def main(argv: Sequence[str] | None = None, *, console: Console | None = None) -> int:
    """Entry point of the `orderflow` console script; returns the process exit code.

    API subcommands print their tables to `console` (default: a rich console on stdout).
    A bad invocation answers argparse's usage message and 2 (`--help`: 0) instead of exiting,
    so a caller (a test) gets the code back."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else USAGE_ERROR
    args.console = console
    try:
        settings = get_settings()
    except ValidationError as exc:
        error(f"invalid ORDERFLOW_* settings:\n{exc}")
        return USAGE_ERROR
    command: Command = args.command
    return command(args, settings)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="orderflow", description="Order-to-delivery orchestration on Temporal."
    )
    add_global_options(parser)
    sub = parser.add_subparsers(metavar="COMMAND", required=True)

    run = sub.add_parser(
        "run",
        help="run Temporal, PostgreSQL, the gateway and the worker until Ctrl-C",
        description="What `make run` does. Embedded servers start unless "
        "ORDERFLOW_TEMPORAL_ADDRESS / ORDERFLOW_DATABASE_URL name real ones.",
    )
    run.set_defaults(command=run_command)

    token = sub.add_parser(
        "token",
        help="print a JWT signed with the configured or local dev key",
        description="Mint a bearer token for `Authorization: Bearer <token>`.",
    )
    token.add_argument("--sub", required=True, help="who the token speaks for, e.g. alice")
    token.add_argument(
        "--roles",
        required=True,
        type=_role_list,
        help="comma-separated roles: departments, head:<dept>, division, ops, admin",
    )
    token.add_argument(
        "--ttl", type=int, default=30 * 24 * 3600, help="lifetime in seconds (default 30 days)"
    )
    token.set_defaults(command=token_command)

    migrate = sub.add_parser(
        "migrate",
        help="apply the schema migrations to ORDERFLOW_DATABASE_URL",
        description="`orderflow run` migrates by itself; this is for real databases.",
    )
    migrate.set_defaults(command=migrate_command)
    add_api_commands(sub)
    return parser


def _role_list(text: str) -> list[str]:
    roles = [role.strip() for role in text.split(",") if role.strip()]
    if not roles:
        raise argparse.ArgumentTypeError("name at least one role")
    return roles


def run_command(args: argparse.Namespace, settings: Settings) -> int:
    """`orderflow run`: the whole system on this machine until Ctrl-C."""
    from app.runner import run

    return run(settings)


def token_command(args: argparse.Namespace, settings: Settings) -> int:
    """`orderflow token`: print a token for `--sub` with `--roles`."""
    from shared.auth import mint_token

    if args.ttl <= 0:
        error("--ttl must be a positive number of seconds")
        return USAGE_ERROR
    try:
        token = mint_token(settings, sub=args.sub, roles=args.roles, ttl_seconds=args.ttl)
    except ValueError as exc:
        error(str(exc))
        return USAGE_ERROR
    print(token)
    return 0


def migrate_command(args: argparse.Namespace, settings: Settings) -> int:
    """`orderflow migrate`: bring the database to the newest schema, as the owner of
    ORDERFLOW_MIGRATION_DATABASE_URL when set (then ORDERFLOW_DATABASE_URL's user gets DML)."""
    from app.migrate import runtime_role_of, upgrade

    if not settings.database_url:
        error("set ORDERFLOW_DATABASE_URL (orderflow run migrates its embedded database itself)")
        return USAGE_ERROR
    owner_url = settings.migration_database_url or settings.database_url
    upgrade(owner_url, runtime_role=runtime_role_of(settings.database_url, owner_url))
    print("migrations applied")
    return 0


if __name__ == "__main__":
    sys.exit(main())
