"""docs/process-trace.md names only what exists (issue 16): every file and function its
"implemented in" column names, every task kind, every route and every test; and every clause
of the seed's procedure (四、流程 §1.1-§11.4) has exactly one row, every policy its title in the
seed.

Read from the sources, no server: the code and tests through their AST, the kinds from
shared/tasks/kinds.py, the routes from the app `create_app` builds (never started), the seed
from the copy kept beside the document (docs/seed/order-process.zh.txt, the factory's own
text; `ORDERFLOW_SEED` points elsewhere). The checker's own tests break a copy of the document and a
made-up seed, so the walk over the real one cannot pass by finding nothing.
"""

from __future__ import annotations

import ast
import functools
import os
import re
from collections import Counter
from pathlib import Path

from fastapi.routing import APIRoute, iter_route_contexts

from shared.tasks.kinds import TASK_KINDS
from tests.source_ast import parse

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "process-trace.md"
SEED = Path(os.environ.get("ORDERFLOW_SEED", ROOT / "docs" / "seed" / "order-process.zh.txt"))

# The header every table of the document has; its first cell names the table.
COLUMNS = ("the seed asks", "implemented in", "task kinds", "endpoints", "tests", "status")
TABLES = ("clause", "policy")
CHECKED = ("implemented in", "task kinds", "endpoints", "tests")
STATUSES = ("done", "partial", "differs", "not built")

SEPARATOR = re.compile(r"^\|(\s*:?-+:?\s*\|)+$")
NAMES = re.compile(r"^`[^`]+`(, `[^`]+`)*$")
CLAUSE = re.compile(r"^§\d{1,2}(\.\d{1,2}){0,2}$")
# A clause number as the seed writes it: "1.1市场部", "2.1 项目计划", "7.3.1 项目工程变更".
SEED_CLAUSE = re.compile(r"(?<![\d.])(\d{1,2}\.\d{1,2}(?:\.\d{1,2})?)(?=\s*[\u4e00-\u9fff《])")
ENDPOINT = re.compile(r"^(GET|POST|PUT|PATCH|DELETE) (/\S*)$")
TEST_REF = re.compile(r"^(tests/\S+\.py)::(\w+(?:::\w+)?)$")

Table = list[dict[str, str]]


def read_tables(doc: str) -> tuple[dict[str, Table], list[str]]:
    """The document's tables by their first header cell, each row by column; and what is
    malformed (a header other than COLUMNS, a row of the wrong width)."""
    tables: dict[str, Table] = {}
    problems: list[str] = []
    lines = doc.splitlines()
    current: Table | None = None
    header: list[str] = []
    for number, line in enumerate(lines, start=1):
        if not line.startswith("|"):
            current = None
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if current is None:
            if number < len(lines) and SEPARATOR.match(lines[number].strip()):
                header = cells
                if tuple(header[1:]) != COLUMNS or header[0] not in TABLES:
                    problems.append(f"line {number}: a table's header must be x | {COLUMNS}")
                    current = []  # its rows are read, and checked no further
                else:
                    current = tables.setdefault(header[0], [])
            continue
        if SEPARATOR.match(line.strip()):
            continue
        if len(cells) != len(header):
            problems.append(f"line {number}: {len(cells)} cells, the header has {len(header)}")
            continue
        current.append(dict(zip(header, cells, strict=True)))
    return tables, problems


def code_problem(ref: str) -> str | None:
    """`path.py` or `path.py:Name.attr`: the file, and each name defined in the one before."""
    path, _, qualname = ref.partition(":")
    file = ROOT / path
    if not path.endswith(".py") or not file.is_file():
        return f"`{ref}`: there is no file {path}"
    body = _module_body(file)
    for part in qualname.split(".") if qualname else []:
        node = next((n for n in body if part in _defines(n)), None)
        if node is None:
            return f"`{ref}`: {path} defines no {qualname}"
        body = node.body if isinstance(node, ast.ClassDef) else []
    return None


@functools.cache
def _module_body(file: Path) -> list[ast.stmt]:
    return parse(file.read_text(encoding="utf-8")).body


def _defines(node: ast.stmt) -> set[str]:
    if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
        return {node.name}
    if isinstance(node, ast.Assign):
        return {t.id for t in node.targets if isinstance(t, ast.Name)}
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return {node.target.id}
    return set()


def named_test_problem(ref: str) -> str | None:
    """`tests/x.py::test_name` (or `::Class::test_name`): a test function of that file."""
    match = TEST_REF.match(ref)
    if match is None:
        return f"`{ref}` is not tests/….py::test_name"
    path, qualname = match.groups()
    if not qualname.rsplit("::", 1)[-1].startswith("test"):
        return f"`{ref}` does not name a test function"
    if code_problem(f"{path}:{qualname.replace('::', '.')}"):
        return f"`{ref}`: {path} has no test {qualname}"
    return None


def route_key(method: str, path: str) -> tuple[str, str]:
    """A route with its path parameters unnamed: `{order_no}` and `{no}` are the same."""
    return method, re.sub(r"\{[^}]*\}", "{}", path)


@functools.cache
def app_routes() -> frozenset[tuple[str, str]]:
    """Every (method, path) the whole app serves, from the app `create_app` builds."""
    from app.gateway import create_app
    from shared.settings import DEPARTMENTS, Settings

    app = create_app(Settings(), departments=DEPARTMENTS)
    routes = set()
    for context in iter_route_contexts(app.routes):
        if isinstance(context.original_route, APIRoute):
            routes |= {route_key(m, context.path or "") for m in context.methods or ()}
    return frozenset(routes)


def name_problems(tables: dict[str, Table], routes: frozenset[tuple[str, str]]) -> list[str]:
    """Every name in a checked column that does not exist, each cell not a list of names,
    each status that does not start as STATUSES says, each `done` without a test."""
    problems = []
    for rows in tables.values():
        for row in rows:
            label = next(iter(row.values()))
            for column in CHECKED:
                cell = row[column]
                if cell == "—":
                    continue
                if not NAMES.match(cell):
                    problems.append(f"{label}, {column}: not `name`, `name`, … or —: {cell}")
                    continue
                for name in re.findall(r"`([^`]+)`", cell):
                    problem = _name_problem(column, name, routes)
                    if problem:
                        problems.append(f"{label}: {problem}")
            if not row["status"].startswith(STATUSES):
                problems.append(f"{label}: the status starts with one of {STATUSES}")
            if row["status"].startswith("done") and row["tests"] == "—":
                problems.append(f"{label}: done, and names no test that shows it")
    return problems


def _name_problem(column: str, name: str, routes: frozenset[tuple[str, str]]) -> str | None:
    if column == "implemented in":
        return code_problem(name)
    if column == "task kinds":
        return None if name in TASK_KINDS else f"`{name}` is no task kind of shared/tasks/kinds.py"
    if column == "tests":
        return named_test_problem(name)
    match = ENDPOINT.match(name)
    if match is None:
        return f"`{name}` is not `METHOD /path`"
    return None if route_key(*match.groups()) in routes else f"`{name}`: the app has no such route"


def seed_clauses(seed: str) -> set[str]:
    """The clauses of the seed's procedure (the last 四、流程, its first document in full): each
    numbered one, and each chapter between them that has none of its own (§9)."""
    body = seed[seed.rindex("四、流程") :]
    numbered = set(SEED_CLAUSE.findall(body))
    chapters = {int(clause.split(".")[0]) for clause in numbered}
    bare = {str(n) for n in range(1, max(chapters) + 1) if n not in chapters}
    return {f"§{clause}" for clause in numbered | bare}


def coverage_problems(tables: dict[str, Table], seed: str) -> list[str]:
    """A clause of the seed without a row, a row for no clause of it, a clause twice, and a
    policy whose Chinese title (each of `甲 / 乙 (gloss)`) the seed does not hold."""
    expected = seed_clauses(seed)
    labels = Counter(row["clause"] for row in tables.get("clause", []))
    problems = [f"{c} of the seed has no row" for c in sorted(expected - set(labels))]
    for label, count in sorted(labels.items()):
        if not CLAUSE.match(label) or label not in expected:
            problems.append(f"{label} is not a clause of the seed")
        if count > 1:
            problems.append(f"{label} has {count} rows")
    policies = tables.get("policy", [])
    if not policies:
        problems.append("the document has no policy table")
    for row in policies:
        for title in row["policy"].split(" (", 1)[0].split(" / "):
            if title not in seed:
                problems.append(f"policy {title} is not in the seed")
    return problems


# -- the document ----------------------------------------------------------------------------


def test_the_trace_names_only_code_kinds_routes_and_tests_that_exist() -> None:
    tables, problems = read_tables(DOC.read_text(encoding="utf-8"))
    assert set(tables) == set(TABLES), f"tables found: {sorted(tables)}"
    problems += name_problems(tables, app_routes())
    assert not problems, "docs/process-trace.md:\n" + "\n".join(problems)


def test_every_clause_of_the_seed_has_one_row_and_every_policy_its_title() -> None:
    seed = SEED.read_text(encoding="utf-8")
    assert len(seed_clauses(seed)) > 40  # the seed read is the procedure, §1.1-§11.4
    tables, _ = read_tables(DOC.read_text(encoding="utf-8"))
    problems = coverage_problems(tables, seed)
    assert not problems, "docs/process-trace.md:\n" + "\n".join(problems)


# -- the checker -----------------------------------------------------------------------------


def test_the_checker_finds_every_name_that_does_not_exist() -> None:
    doc = DOC.read_text(encoding="utf-8")
    broken = {
        "`sales.ship`": "`sales.shipping`",
        "::test_a_change_not_agreed_changes_nothing`": "::test_a_change_gone`",
        "`POST /warehouse/returns`": "`POST /warehouse/returnz`",
        "`workflows/plan.py:PlanPhase._renegotiate`": "`workflows/plan.py:PlanPhase._haggle`",
        "`workflows/closing.py:": "`workflows/closed.py:",
        "`GET /kpis`": "GET /kpis",
    }
    for good, bad in broken.items():
        assert good in doc, good
        doc = doc.replace(good, bad, 1)
    tables, _ = read_tables(doc)
    found = "\n".join(name_problems(tables, app_routes()))
    for named in (
        "`sales.shipping` is no task kind",
        "tests/test_customer_change.py has no test test_a_change_gone",
        "`POST /warehouse/returnz`: the app has no such route",
        "defines no PlanPhase._haggle",
        "there is no file workflows/closed.py",
        "§2.3, endpoints: not `name`, `name`, … or —:",
    ):
        assert named in found, f"{named!r} not in:\n{found}"


def test_the_checker_finds_missing_foreign_and_repeated_rows() -> None:
    def row(label: str, status: str = "not built: made up", kinds: str = "—") -> str:
        return f"| {label} | x | — | {kinds} | — | — | {status} |"

    head = " | ".join(COLUMNS)
    doc = "\n".join(
        [
            f"| clause | {head} |",
            "|---|---|---|---|---|---|---|",
            row("§1.1"),
            row("§1.1"),
            row("§3.1", status="done"),
            row("§4.2", status="finished"),
            row("§3.2", kinds="`sales.ship` and more"),
            "",
            f"| policy | {head} |",
            "|---|---|---|---|---|---|---|",
            row("订单接收 / 订单飞行 (intake; flying)"),
        ]
    )
    seed = "四、流程:1.评审1.1市场部1.2 采购部3.1技术部3.2技术工程师 订单接收"
    tables, malformed = read_tables(doc)
    assert not malformed
    narrow = "| clause | the seed asks | status |\n|---|---|---|\n| §1.2 | x | done |"
    assert len(read_tables(f"{doc}\n\n{narrow}")[1]) == 1
    assert read_tables(f"{doc}\n\n{narrow}")[0] == tables
    found = coverage_problems(tables, seed) + name_problems(tables, frozenset())
    assert sorted(found) == sorted(
        [
            "§1.2 of the seed has no row",
            "§2 of the seed has no row",
            "§1.1 has 2 rows",
            "§4.2 is not a clause of the seed",
            "policy 订单飞行 is not in the seed",
            "§3.1: done, and names no test that shows it",
            f"§4.2: the status starts with one of {STATUSES}",
            "§3.2, task kinds: not `name`, `name`, … or —: `sales.ship` and more",
        ]
    )


def test_the_seed_is_read_as_it_numbers_its_clauses() -> None:
    seed = (
        "四、流程:1.评审1.1市场部 8.5若 6.2打印 四、流程:1.项目订单评审1.1市场部接到, 8小时内"
        "2. 项目计划2.1 项目计划接到7.3退料7.3.1 项目工程变更:生产部8生产部8.1 生产部"
        "9. 工艺控制10.1技术部《项目主计划表》11.4 若检验"
    )
    assert seed_clauses(seed) == {
        *("§1.1", "§2.1", "§7.3", "§7.3.1", "§8.1", "§10.1", "§11.4"),
        *("§3", "§4", "§5", "§6", "§9"),
    }
