"""Imports run one way: app → services/workflows → shared.

Read from the source (the AST of every module, no import executed): `shared` imports none of
`services`, `workflows`, `app`; `services` and `workflows` never import `app`; `workflows` never
imports a route module (`services.<pkg>.api`); `services` reaches `workflows` only through
`workflows.clients`. The checker's own tests feed it bad imports, so the walk over the code
cannot pass by finding nothing.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.source_ast import parse

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("app", "services", "workflows", "shared")
# The one module of workflows/ that services may import.
WORKFLOW_CLIENTS = "workflows.clients"


def module_name(path: Path) -> str:
    """`services/sales/api.py` → `services.sales.api`; a package's `__init__` is the package."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_module(name: str) -> bool:
    """Whether `name` is a module or package of this repository."""
    base = ROOT.joinpath(*name.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def _absolute(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The module a `from ... import` names, with a relative one resolved against `module`."""
    if node.level == 0:
        return node.module or ""
    parts = module.split(".")
    base = parts if is_package else parts[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _dynamic(node: ast.Call) -> str | None:
    """The module (or its leading part) of `importlib.import_module("…")` or of an f-string
    such as `f"services.{dept}.api"`, which counts as an import of `services`."""
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if name not in ("import_module", "__import__") or not node.args:
        return None
    arg = node.args[0]
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value
    if isinstance(arg, ast.JoinedStr) and arg.values:
        head = arg.values[0]
        if isinstance(head, ast.Constant) and isinstance(head.value, str):
            return head.value.rsplit(".", 1)[0] if "." in head.value else head.value
    return None


def imports_of(source: str, module: str, *, is_package: bool = False) -> set[str]:
    """Every module `source` (the text of `module`) imports, wherever the import sits: at the
    top, in a function, under TYPE_CHECKING or `imports_passed_through()`."""
    found: set[str] = set()
    for node in ast.walk(parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module, is_package, node)
            for alias in node.names:
                # `from workflows import clients` imports the module workflows.clients.
                full = f"{base}.{alias.name}"
                found.add(full if is_module(full) else base)
        elif isinstance(node, ast.Call) and (name := _dynamic(node)) is not None:
            found.add(name)
    return found


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(f"{package}.")


def _layer(name: str) -> str | None:
    return next((layer for layer in LAYERS if _within(name, layer)), None)


def is_route_module(name: str) -> bool:
    """`services.<pkg>.api` or anything below it (routes belong to the API, not workflows)."""
    parts = name.split(".")
    return parts[0] == "services" and "api" in parts[1:]


def violation(importer: str, imported: str) -> str | None:
    """Why `importer` may not import `imported`, or None when the import runs downwards."""
    source, target = _layer(importer), _layer(imported)
    if source is None or target is None or source == target:
        return None
    if source == "shared":
        return "shared is the ground layer: it imports no services, workflows or app"
    if target == "app":
        return "app is the composition root: nothing below imports it"
    if source == "workflows" and is_route_module(imported):
        return "workflows do not import routes (services.*.api)"
    if source == "services" and target == "workflows" and not _within(imported, WORKFLOW_CLIENTS):
        return f"services reach workflows only through {WORKFLOW_CLIENTS}"
    return None


def layer_modules() -> Iterator[tuple[str, Path]]:
    for layer in LAYERS:
        for path in sorted((ROOT / layer).rglob("*.py")):
            yield module_name(path), path


def violations() -> list[str]:
    """Every upward import in the repository, as `importer → imported: why`."""
    problems = []
    for module, path in layer_modules():
        is_package = path.name == "__init__.py"
        for imported in sorted(imports_of(path.read_text(), module, is_package=is_package)):
            why = violation(module, imported)
            if why:
                problems.append(f"{module} → {imported}: {why}")
    return problems


def test_imports_run_only_downwards() -> None:
    modules = dict(layer_modules())
    assert {"app.gateway", "shared.updates", WORKFLOW_CLIENTS} <= modules.keys()
    assert violations() == []


# -- the checker itself -----------------------------------------------------------------------


SHARED, APP, ROUTES, CLIENTS = "ground layer", "composition root", "routes", "only through"
IMPORT_MODULE = "import importlib\nimportlib.import_module"


@pytest.mark.parametrize(
    ("importer", "source", "reason"),
    [
        ("shared.timeline", "from services.planning.models import Milestone\n", SHARED),
        ("shared.tasks.service", "import workflows.order\n", SHARED),
        ("shared.db", "from app import gateway\n", SHARED),
        ("shared.db", "def f():\n    from app.worker import serve\n", SHARED),
        ("shared.deps", f"{IMPORT_MODULE}('services.sales.api')\n", SHARED),
        ("shared.deps", f"{IMPORT_MODULE}(f'services.{{d}}.api')\n", SHARED),
        ("shared.tasks.kinds", "from ...services.sales import api\n", SHARED),
        ("services.sales.api", "from workflows.order import OrderWorkflow\n", CLIENTS),
        ("services.sales.api", "from workflows import order\n", CLIENTS),
        ("services.warehouse.receiving", "import workflows\n", CLIENTS),
        ("services.sales.api", "from app.schedules import ensure_schedules\n", APP),
        ("workflows.order", "from services.sales.api import router\n", ROUTES),
        ("workflows.order", "from services.tasks import api\n", ROUTES),
        ("workflows.order", "from app.worker import WORKFLOWS\n", APP),
        (
            "workflows.order",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from app.gateway import X\n",
            APP,
        ),
    ],
)
def test_the_checker_finds_an_upward_import(importer: str, source: str, reason: str) -> None:
    found = [
        why for imported in imports_of(source, importer) if (why := violation(importer, imported))
    ]
    assert len(found) == 1 and reason in found[0], (source, found)


@pytest.mark.parametrize(
    ("importer", "source"),
    [
        ("app.gateway", "from services.orders.api import router\nimport workflows.order\n"),
        ("app.schema", f"{IMPORT_MODULE}(f'services.{{d}}.models')\n"),
        ("services.sales.api", "from workflows.clients import OrderWorkflow\n"),
        ("services.sales.api", "from workflows import clients\n"),
        ("services.sales.api", "from shared.updates import send_update\n"),
        ("workflows.order", "from services.sales.activities import SalesActivities\n"),
        ("workflows.order", "from shared.rejections import Rejection\n"),
        ("shared.updates", "from shared.errors import conflict\nfrom .rejections import R\n"),
    ],
)
def test_the_checker_lets_downward_imports_pass(importer: str, source: str) -> None:
    assert [i for i in imports_of(source, importer) if violation(importer, i)] == []


def test_relative_imports_resolve_against_the_importer() -> None:
    assert imports_of("from . import models\n", "shared.tasks.kinds") == {"shared.tasks.models"}
    assert imports_of("from .models import inbox\n", "shared.tasks", is_package=True) == {
        "shared.tasks.models"
    }
    assert imports_of("from ...services.sales import api\n", "shared.tasks.kinds") == {
        "services.sales.api"
    }
