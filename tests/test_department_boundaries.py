"""One writer per table (DESIGN.md): a department's tables are written only by its own code,
and another department reads or changes them only through the owner's service functions.

A static check over the source of every module under `services/<dept>/`: it fails when a
department imports another department's `models`, reaches the inbox or escalation tables
other than through `shared.tasks.service` / `shared.escalations.service`, or writes another
department's table (SQLAlchemy `insert(`/`update(`/`delete(` of its model or table,
`session.add(` of one of its rows, or raw SQL naming its schema). The checker is checked on
a synthetic bad department, so it cannot pass by finding nothing.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from shared.settings import DEPARTMENTS
from tests.source_ast import parse

ROOT = Path(__file__).resolve().parents[1]

# The departments under services/: each owns the tables of its `models.py` and its schema.
# `services/orders/` (the cross-department order view) and `shared/` are not departments.

# Files held back from the check until they move out of their department, each with why.
# Planning's order view and KPIs (service.py, api.py's order routes, kpis.py, kpi_api.py,
# kpi_schemas.py, schemas.py) read every department's tables and were listed here until they
# moved to `services/orders/`, which is not a department and may read every table; what
# stayed in those planning files is planning's own, so nothing is held back now.
NOT_YET_MOVED: frozenset[str] = frozenset()

# Shared packages whose tables departments change only through their service functions.
GUARDED_SHARED = {"shared.escalations.models": "escalation", "shared.tasks.models": "inbox"}
# A department's models.py declares its own inbox table with this factory; nothing else
# from shared.tasks.models is for departments.
INBOX_FACTORY = "inbox"

WRITE_CALLS = {"insert", "update", "delete"}
RAW_WRITE = re.compile(r"\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?([a-z_]+)\"?\.")


@dataclass(frozen=True)
class Violation:
    path: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what}"


def _department(path: Path, root: Path) -> str | None:
    parts = path.relative_to(root).parts
    if len(parts) >= 3 and parts[0] == "services" and parts[1] in DEPARTMENTS:
        return parts[1]
    return None


def _owned_tables(root: Path) -> dict[str, str]:
    """Model class name → owning department, from each department's models.py."""
    owners: dict[str, str] = {}
    for dept in DEPARTMENTS:
        models = root / "services" / dept / "models.py"
        if not models.exists():
            continue
        for node in ast.walk(parse(models.read_text())):
            if isinstance(node, ast.ClassDef) and any(
                kw.arg == "table" and isinstance(kw.value, ast.Constant) and kw.value.value
                for kw in node.keywords
            ):
                owners[node.name] = dept
    return owners


def _imported_dept(module: str) -> str | None:
    """The department a `services.<dept>.models` import reaches, else None."""
    parts = module.split(".")
    if len(parts) >= 3 and parts[0] == "services" and parts[2] == "models":
        return parts[1] if parts[1] in DEPARTMENTS else None
    return None


def _check_imports(
    tree: ast.Module, rel: str, own: str, is_models: bool
) -> tuple[list[Violation], dict[str, str]]:
    """Import violations, and local name → department of every model name imported."""
    found: list[Violation] = []
    origins: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                dept = _imported_dept(alias.name)
                if dept and dept != own:
                    found.append(Violation(rel, node.lineno, f"imports {alias.name}"))
                if alias.name in GUARDED_SHARED:
                    found.append(Violation(rel, node.lineno, f"imports {alias.name}"))
        elif isinstance(node, ast.ImportFrom) and node.module:
            module = node.module
            dept = _imported_dept(module)
            if module == "services" or (module.startswith("services.") and module.count(".") == 1):
                # `from services.procurement import models`
                target = module.split(".")[1] if "." in module else None
                for alias in node.names:
                    reached = target or alias.name
                    if alias.name == "models" and reached != own and reached in DEPARTMENTS:
                        found.append(Violation(rel, node.lineno, f"imports {module}.models"))
            if dept is not None:
                for alias in node.names:
                    origins[alias.asname or alias.name] = dept
                if dept != own:
                    found.append(Violation(rel, node.lineno, f"imports {module}"))
            if module in GUARDED_SHARED:
                names = {alias.name for alias in node.names}
                if not (is_models and names == {INBOX_FACTORY}):
                    found.append(
                        Violation(
                            rel,
                            node.lineno,
                            f"imports {module} ({GUARDED_SHARED[module]} rows are written "
                            f"through its service functions)",
                        )
                    )
    return found, origins


def _target_name(node: ast.expr) -> str | None:
    """The model a write targets: `Model`, `Model.__table__`, `models.Model`, `Model(...)`."""
    if isinstance(node, ast.Call):
        return _target_name(node.func)
    if isinstance(node, ast.Attribute):
        if node.attr == "__table__":
            return _target_name(node.value)
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return None


def _call_name(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def _foreign(name: str | None, own: str, owners: dict[str, str], origins: dict[str, str]) -> bool:
    """Whether `name` is another department's model in this module."""
    if name is None:
        return False
    owner = origins.get(name, owners.get(name))
    return owner is not None and owner != own


def _check_writes(
    tree: ast.Module, rel: str, own: str, owners: dict[str, str], origins: dict[str, str]
) -> list[Violation]:
    found: list[Violation] = []
    local_classes = {n.name for n in ast.walk(tree) if isinstance(n, ast.ClassDef)}
    owners = {name: dept for name, dept in owners.items() if name not in local_classes}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args:
            called = _call_name(node)
            target = _target_name(node.args[0])
            if called in WRITE_CALLS and _foreign(target, own, owners, origins):
                found.append(Violation(rel, node.lineno, f"{called}({target}) of another dept"))
            if (
                called in {"add", "add_all"}
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.args[0], ast.Call)
                and _foreign(target, own, owners, origins)
            ):
                found.append(Violation(rel, node.lineno, f"session.add({target}(...))"))
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            for schema in RAW_WRITE.findall(node.value):
                if schema != own and (schema in DEPARTMENTS or schema == "escalation"):
                    found.append(Violation(rel, node.lineno, f"raw SQL writes {schema}.*"))
    return found


def boundary_violations(root: Path) -> list[Violation]:
    """Every breach of the one-writer rule in the departments under `root/services`."""
    owners = _owned_tables(root)
    found: list[Violation] = []
    for path in sorted((root / "services").rglob("*.py")):
        own = _department(path, root)
        rel = path.relative_to(root).as_posix()
        if own is None or rel in NOT_YET_MOVED:
            continue
        tree = parse(path.read_text(), filename=rel)
        imports, origins = _check_imports(tree, rel, own, is_models=path.name == "models.py")
        found += imports
        found += _check_writes(tree, rel, own, owners, origins)
    return found


def test_departments_write_only_their_own_tables() -> None:
    violations = boundary_violations(ROOT)
    assert not violations, "\n".join(str(v) for v in violations)


def test_the_checker_finds_every_kind_of_breach(tmp_path: Path) -> None:
    """A synthetic procurement department and a sales module that breaks the rule each way."""
    (tmp_path / "services" / "procurement").mkdir(parents=True)
    (tmp_path / "services" / "sales").mkdir(parents=True)
    (tmp_path / "services" / "procurement" / "models.py").write_text(
        "from shared.tasks.models import inbox\n"
        "Task = inbox('procurement')\n"
        "class PoLine(SQLModel, table=True):\n    po_no: str\n"
        "class Requisition(SQLModel, table=True):\n    key: str\n"
    )
    (tmp_path / "services" / "sales" / "models.py").write_text(
        "from shared.tasks.models import inbox\n"
        "class Order(SQLModel, table=True):\n    order_no: str\n"
    )
    (tmp_path / "services" / "sales" / "bad.py").write_text(
        "from sqlalchemy import delete, update, text\n"
        "from services.procurement.models import PoLine as Line\n"
        "from services.procurement.service import Requisition\n"
        "from services.sales.models import Order\n"
        "from shared.escalations.models import Escalation\n"
        "from shared.tasks.models import INBOXES\n"
        "async def unwind(session):\n"
        "    await session.execute(update(Line).values(qty_received=0))\n"
        "    session.add(Requisition(key='x'))\n"
        "    await session.execute(delete(Requisition.__table__))\n"
        "    await session.execute(text('DELETE FROM procurement.po_lines'))\n"
        "    await session.execute(update(Order).values(status='cancelled'))\n"
        "    session.add(Order(order_no='x'))\n"
    )
    found = {(v.line, v.what.split(" (")[0]) for v in boundary_violations(tmp_path)}
    assert found == {
        (2, "imports services.procurement.models"),
        (5, "imports shared.escalations.models"),
        (6, "imports shared.tasks.models"),
        (8, "update(Line) of another dept"),
        (9, "session.add(Requisition(...))"),
        (10, "delete(Requisition) of another dept"),
        (11, "raw SQL writes procurement.*"),
    }
    # The owner writing its own table breaks nothing.
    (tmp_path / "services" / "sales" / "bad.py").rename(
        tmp_path / "services" / "procurement" / "fine.py"
    )
    (tmp_path / "services" / "procurement" / "fine.py").write_text(
        "from sqlalchemy import update\n"
        "from services.procurement.models import PoLine\n"
        "async def book(session):\n"
        "    await session.execute(update(PoLine).values(qty_received=0))\n"
    )
    assert boundary_violations(tmp_path) == []
