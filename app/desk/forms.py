"""Task forms from a payload's JSON schema, and back: the fields a form shows for a schema
(`form_fields`), a payload as the flat form values those fields hold (`encode`), and the values
a browser submits decoded into the payload the API expects (`decode`).

Field names are the payload path (`lines.0.item`), the same dotted path as the API's 422
`problems[].field`, so each problem lands next to its input. The schema is the pydantic JSON
schema `GET /{dept}/tasks/{id}` returns ($refs, optional anyOf-null, enums, dates, lists).

Conventions the desk keeps (and its property test pins): an empty optional input is "not
given" (omitted, so null or the default); a blank row or blank line of a list is no entry; a
value that does not read as its type (a number field holding "abc") is sent as typed, so the
API's own 422 names the field.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

# The index a new row gets in a row `<template>`; desk.js replaces it with the next free one.
ROW_SLOT = "__i__"
# Text longer than this gets a textarea rather than a one-line input.
LONG_TEXT = 200
_INTEGER = re.compile(r"-?\d+")
# What an <input type=number> and <input type=date> may hold (HTML's "valid" number and date).
_HTML_FLOAT = re.compile(r"-?(\d+(\.\d+)?|\.\d+)([eE][-+]?\d+)?")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

Values = Mapping[str, str]


@dataclass
class Shape:
    """A schema node read for a form: its widget and what the widget needs."""

    widget: (
        str  # object, rows, lines, select, bool, checkbox, integer, number, date, text, textarea
    )
    required: bool = False
    nullable: bool = False
    allows_string: bool = False
    options: tuple[str, ...] = ()
    properties: dict[str, Shape] = field(default_factory=dict)
    item: Shape | None = None
    title: str = ""


def _resolve(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        target = dict(root.get("$defs", {}).get(ref.removeprefix("#/$defs/"), {}))
        return {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def shape(node: dict[str, Any], root: dict[str, Any], *, required: bool = True) -> Shape:
    """What form widget a schema node becomes (through `$ref` and a nullable `anyOf`)."""
    node = _resolve(node, root)
    nullable = False
    allows_string = False
    options = node.get("anyOf")
    if isinstance(options, list):
        kinds = [_resolve(o, root) for o in options if isinstance(o, dict)]
        nullable = any(o.get("type") == "null" for o in kinds)
        kinds = [o for o in kinds if o.get("type") != "null"]
        types = {o.get("type") for o in kinds}
        # A decimal given as number or text ("12.50"): a number input, text kept as text.
        allows_string = {"number", "string"} <= types or {"integer", "string"} <= types
        numeric = [o for o in kinds if o.get("type") in ("number", "integer")]
        chosen = numeric[0] if allows_string and numeric else (kinds[0] if kinds else {})
        node = {**chosen, **{k: v for k, v in node.items() if k != "anyOf"}}
    title = str(node.get("title", ""))
    kind = node.get("type")

    def made(widget: str, **extra: Any) -> Shape:
        return Shape(widget, required=required, nullable=nullable, title=title, **extra)

    if kind == "object" or "properties" in node:
        needed = set(node.get("required", []))
        props = {
            name: shape(sub, root, required=name in needed)
            for name, sub in node.get("properties", {}).items()
        }
        return made("object", properties=props)
    if kind == "array":
        item = shape(node.get("items", {}), root)
        return made("rows" if item.widget == "object" else "lines", item=item)
    if "enum" in node:
        return made("select", options=tuple(str(v) for v in node["enum"]))
    if kind == "boolean":
        # A boolean with a default is a checkbox; one that must be answered (or may stay
        # unanswered, null) is a yes/no choice, so "not answered" is never read as "no".
        if required or nullable:
            return made("bool")
        return made("checkbox")
    if kind == "integer":
        return made("integer", allows_string=allows_string)
    if kind == "number":
        return made("number", allows_string=allows_string)
    if kind == "string" and node.get("format") == "date":
        return made("date")
    if kind == "string" and int(node.get("maxLength", 0)) > LONG_TEXT:
        return made("textarea")
    return made("text")


def payload_shape(schema: dict[str, Any]) -> Shape:
    """The form of a whole payload (its root object)."""
    return shape(schema, schema)


# -- the fields a form shows ---------------------------------------------------------------


@dataclass
class FormField:
    """One input (or group of inputs) of a rendered form."""

    path: str  # the input's name: the payload path, `lines.0.item`
    name: str  # the property name, for its label
    shape: Shape
    value: str = ""
    problem: str = ""
    children: list[FormField] = field(default_factory=list)
    rows: list[list[FormField]] = field(default_factory=list)
    template: list[FormField] = field(default_factory=list)

    @property
    def id(self) -> str:
        """An HTML id for the input (unique in the page, stable for the label's `for`)."""
        return "f-" + re.sub(r"[^A-Za-z0-9_-]", "-", self.path)

    @property
    def next_index(self) -> int:
        """The index of a row added next (after the rows shown, numbered from 0)."""
        return len(self.rows)

    @property
    def typed_ok(self) -> bool:
        """Whether the value fits its typed input (number, date); else a text input shows it
        as the user gave it, next to its problem."""
        if self.value == "" or self.shape.allows_string:
            return not self.shape.allows_string
        if self.shape.widget == "integer":
            return bool(_INTEGER.fullmatch(self.value))
        if self.shape.widget == "number":
            return bool(_HTML_FLOAT.fullmatch(self.value))
        if self.shape.widget == "date":
            try:
                date.fromisoformat(self.value)
            except ValueError:
                return False
            return bool(_ISO_DATE.fullmatch(self.value))
        return True


def form_fields(
    schema: dict[str, Any], values: Values, problems: Mapping[str, str]
) -> list[FormField]:
    """The fields of a payload's form, holding `values` and each one's problem."""
    root = payload_shape(schema)
    return [_field(name, name, sub, values, problems) for name, sub in root.properties.items()]


def _field(
    path: str, name: str, node: Shape, values: Values, problems: Mapping[str, str]
) -> FormField:
    made = FormField(path=path, name=name, shape=node, value=values.get(path, ""))
    made.problem = problems.get(path, "")
    if node.widget == "object":
        made.children = [
            _field(f"{path}.{sub}", sub, child, values, problems)
            for sub, child in node.properties.items()
        ]
    elif node.widget == "rows" and node.item is not None:
        item = node.item
        # A list that must have a row starts with one, ready to fill.
        indices = row_indices(values, path) or ([0] if node.required else [])
        made.rows = [
            [
                _field(f"{path}.{index}.{sub}", sub, child, values, problems)
                for sub, child in item.properties.items()
            ]
            for index in indices
        ]
        made.template = [
            _field(f"{path}.{ROW_SLOT}.{sub}", sub, child, {}, {})
            for sub, child in item.properties.items()
        ]
    return made


def row_indices(values: Values, path: str) -> list[int]:
    """The row numbers the values hold for the list at `path`, in order."""
    prefix = path + "."
    found = set()
    for key in values:
        if key.startswith(prefix):
            head = key[len(prefix) :].split(".", 1)[0]
            if head.isdigit():
                found.add(int(head))
    return sorted(found)


def place_problems(
    problems: Mapping[str, str], fields: list[FormField]
) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Each problem at the input or group its path names (`issues.2` at `issues`; a missing
    row's field at the row's list), and those that name none, for the top of the form."""
    known: set[str] = set()

    def collect(items: list[FormField]) -> None:
        for item in items:
            known.add(item.path)
            collect(item.children)
            for row in item.rows:
                collect(row)

    collect(fields)
    placed: dict[str, str] = {}
    loose: list[tuple[str, str]] = []
    for path, problem in problems.items():
        parts = path.split(".") if path else []
        while parts and ".".join(parts) not in known:
            parts.pop()
        if parts:
            where = ".".join(parts)
            placed[where] = f"{placed[where]}; {problem}" if where in placed else problem
        else:
            loose.append((path, problem))
    return placed, loose


# -- payload -> form values -----------------------------------------------------------------


def encode(schema: dict[str, Any], payload: Mapping[str, Any]) -> dict[str, str]:
    """The form values showing `payload` (a checkbox left unchecked has no value)."""
    out: dict[str, str] = {}
    root = payload_shape(schema)
    for name, node in root.properties.items():
        if name in payload:
            _encode(name, node, payload[name], out)
    return out


def _encode(path: str, node: Shape, value: Any, out: dict[str, str]) -> None:
    if value is None:
        return
    if node.widget == "object" and isinstance(value, Mapping):
        for name, child in node.properties.items():
            if name in value:
                _encode(f"{path}.{name}", child, value[name], out)
    elif node.widget == "rows" and isinstance(value, list) and node.item is not None:
        for index, row in enumerate(value):
            if isinstance(row, Mapping):
                for name, child in node.item.properties.items():
                    if name in row:
                        _encode(f"{path}.{index}.{name}", child, row[name], out)
    elif node.widget == "lines" and isinstance(value, list):
        out[path] = "\n".join(_text(item) for item in value)
    elif node.widget == "checkbox":
        if value is True:
            out[path] = "true"
    else:
        out[path] = _text(value)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and math.isfinite(value):
        # Plain decimal notation, exactly the float's shortest repr (no 1e-05 in the input).
        plain = format(Decimal(repr(value)), "f")
        return plain.removesuffix(".0") if plain.endswith(".0") else plain
    return str(value)


# -- a new task's form, filled from its context ----------------------------------------------

_PREFILLED = ("text", "textarea", "number", "integer", "date", "select")


def prefill(schema: dict[str, Any], context: Mapping[str, Any]) -> dict[str, str]:
    """Form values an open task starts with, from its context: a top-level field the context
    names (a PO's supplier, an operation), and a list's rows from the context's list of the same
    name, or else the one whose rows share the most fields (a pick list's items). Decisions
    (booleans) are never answered for the user."""
    root = payload_shape(schema)
    out: dict[str, str] = {}
    for name, node in root.properties.items():
        if node.widget in _PREFILLED and isinstance(context.get(name), str | int | float):
            if not isinstance(context[name], bool):
                _encode(name, node, context[name], out)
        elif node.widget == "rows" and node.item is not None:
            fields = {n for n, f in node.item.properties.items() if f.widget in _PREFILLED}
            source = _matching_list(context, name, fields)
            for index, row in enumerate(source):
                for sub in fields & set(row):
                    value = row[sub]
                    if isinstance(value, str | int | float) and not isinstance(value, bool):
                        _encode(f"{name}.{index}.{sub}", node.item.properties[sub], value, out)
    return out


def _matching_list(context: Mapping[str, Any], name: str, fields: set[str]) -> list[Any]:
    def rows(value: Any) -> list[dict[str, Any]]:
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            return value
        return []

    if rows(context.get(name)):
        return rows(context.get(name))
    shared = [
        (len(fields & set(rows(value)[0])), key)
        for key, value in context.items()
        if rows(value) and fields & set(rows(value)[0])
    ]
    return rows(context[max(shared)[1]]) if shared else []


# -- form values -> payload ------------------------------------------------------------------


def decode(schema: dict[str, Any], values: Values) -> dict[str, Any]:
    """The payload a submitted form holds, read by the schema (see the module's conventions)."""
    root = payload_shape(schema)
    payload: dict[str, Any] = {}
    for name, node in root.properties.items():
        _decode_into(payload, name, name, node, values)
    return payload


def _decode_into(target: dict[str, Any], key: str, path: str, node: Shape, values: Values) -> None:
    missing = object()
    value = _decode(path, node, values, missing)
    if value is not missing:
        target[key] = value


def _blank(values: Values, path: str) -> bool:
    prefix = path + "."
    return not any(v != "" for k, v in values.items() if k == path or k.startswith(prefix))


def _decode(path: str, node: Shape, values: Values, missing: Any) -> Any:
    widget = node.widget
    if widget == "object":
        if not node.required and _blank(values, path):
            return missing
        obj: dict[str, Any] = {}
        for name, child in node.properties.items():
            _decode_into(obj, name, f"{path}.{name}", child, values)
        return obj
    if widget == "rows":
        rows = []
        for index in row_indices(values, path):
            row_path = f"{path}.{index}"
            if _blank(values, row_path) or node.item is None:
                continue  # a row added and left empty is no entry
            row = Shape("object", required=True, properties=node.item.properties)
            rows.append(_decode(row_path, row, values, missing))
        return missing if not rows and node.nullable else rows
    if widget == "checkbox":
        return values.get(path, "") != ""
    raw = values.get(path, "")
    if widget == "lines":
        lines = [line for line in raw.replace("\r\n", "\n").split("\n") if line != ""]
        return missing if not lines and node.nullable else lines
    if widget == "textarea":
        raw = raw.replace("\r\n", "\n")
    if raw == "":
        # Nothing typed: a required text is sent empty (its own rule says if that is allowed),
        # anything else is not given.
        return "" if widget in ("text", "textarea") and node.required else missing
    if widget == "bool":
        return {"true": True, "false": False}.get(raw, raw)
    if widget == "integer":
        return int(raw.strip()) if _INTEGER.fullmatch(raw.strip()) else raw
    if widget == "number":
        return _number(raw, node)
    return raw


def _number(raw: str, node: Shape) -> Any:
    text = raw.strip()
    if node.allows_string:
        return text  # a decimal the schema takes as text stays exact
    if _INTEGER.fullmatch(text):
        return int(text)
    try:
        number = Decimal(text)
    except InvalidOperation:
        return raw
    return float(number) if number.is_finite() else raw
