"""The schema <-> form code of the desk's task forms (app/desk/forms.py), with no server.

Property: for every one of the task kinds, a valid payload shown in its form and submitted back
is the same payload once the kind's model parses both, so every kind is completable from the
desk. The values travel through the rendered HTML as a browser would submit them (inputs,
checked checkboxes, selected options, textareas), not only through `encode`.
"""

from __future__ import annotations

from datetime import date
from html.parser import HTMLParser
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from app.desk.forms import (
    Shape,
    decode,
    encode,
    form_fields,
    payload_shape,
    place_problems,
    prefill,
)
from app.desk.i18n import MESSAGES, translator
from app.desk.task_form import context_rows, render_form_html
from shared.tasks.kinds import TASK_KINDS
from tests.test_payload_properties import model_values

TODAY = date.today()
KINDS = sorted(TASK_KINDS)


class Submitted(HTMLParser):
    """What a browser submits for a form's HTML: named inputs (checkboxes when checked), the
    selected option of each select (else its first), textareas; nothing inside <template>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.values: dict[str, str] = {}
        self.ids: list[str] = []
        self.controls: list[str] = []
        self.label_for: set[str] = set()
        self._template = 0
        self._select: str | None = None
        self._first: str | None = None
        self._chosen: str | None = None
        self._option: str | None = None
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "template":
            self._template += 1
        if self._template:
            return
        if "id" in a:
            self.ids.append(a["id"])
        if tag == "label" and "for" in a:
            self.label_for.add(a["for"])
        name = a.get("name")
        if tag in ("input", "select", "textarea") and a.get("type") != "hidden":
            self.controls.append(a.get("id", ""))
        if tag == "input" and name:
            if a.get("type") == "checkbox":
                if "checked" in a:
                    self.values[name] = a.get("value", "on")
            else:
                self.values[name] = a.get("value", "")
        elif tag == "select" and name:
            self._select, self._first, self._chosen = name, None, None
        elif tag == "option" and self._select is not None:
            value = a.get("value", "")
            if self._first is None:
                self._first = value
            if "selected" in a:
                self._chosen = value
        elif tag == "textarea" and name:
            self._textarea, self._text = name, ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "template":
            self._template -= 1
        if self._template:
            return
        if tag == "select" and self._select is not None:
            chosen = self._chosen if self._chosen is not None else self._first
            self.values[self._select] = chosen or ""
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            # HTML drops one newline right after <textarea>.
            self.values[self._textarea] = self._text.removeprefix("\n")
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None and not self._template:
            self._text += data


def submitted(html: str) -> Submitted:
    parser = Submitted()
    parser.feed(html)
    parser.close()
    return parser


def as_the_desk_can_say_it(schema: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
    """The desk's two conventions (app/desk/forms.py): an empty optional text is "not given",
    and an empty line of a list is no entry. Everything else must survive unchanged."""
    return dict(_said(payload_shape(schema), payload))


def _said(node: Shape, value: Any) -> Any:
    if node.widget == "object" and isinstance(value, dict):
        out = {}
        for name, item in value.items():
            child = node.properties.get(name)
            if child is not None and item == "" and child.nullable:
                continue
            out[name] = _said(child, item) if child is not None else item
        return out
    if node.widget == "rows" and isinstance(value, list) and node.item is not None:
        return [_said(node.item, row) for row in value]
    if node.widget == "lines" and isinstance(value, list):
        return [item for item in value if item != ""]
    return value


def valid_payloads(kind: str) -> st.SearchStrategy[dict[str, Any]]:
    model = TASK_KINDS[kind].payload
    schema = model.model_json_schema()

    def parses(data: dict[str, Any]) -> bool:
        try:
            model.parse(data, today=TODAY)
        except ValidationError:
            return False
        return True

    return model_values(model).map(lambda p: as_the_desk_can_say_it(schema, p)).filter(parses)


@pytest.mark.parametrize("kind", KINDS)
def test_every_kinds_valid_payload_survives_its_form(kind: str) -> None:
    model = TASK_KINDS[kind].payload
    schema = model.model_json_schema()

    @settings(
        max_examples=25,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(payload=valid_payloads(kind))
    def check(payload: dict[str, Any]) -> None:
        html = render_form_html(schema, encode(schema, payload), {}, "en")
        form = submitted(html)
        back = decode(schema, form.values)
        assert model.parse(back, today=TODAY) == model.parse(payload, today=TODAY)
        # Every input has its label, and no id is used twice.
        assert len(form.ids) == len(set(form.ids))
        assert set(form.controls) <= form.label_for

    check()


def test_the_form_reads_types_from_the_schema() -> None:
    schema = TASK_KINDS["engineering.release_bom"].payload.model_json_schema()
    values = {
        "lines.0.item": "FRAME",
        "lines.0.qty_per": "2",
        "lines.0.make_or_buy": "make",
        "lines.0.lead_days": "",
        "lines.0.special": "true",
        "lines.3.item": "BOLT",
        "lines.3.qty_per": "0.25",
        "lines.3.make_or_buy": "buy",
        "lines.3.lead_days": "14",
        "lines.3.special": "",
        "lines.5.item": "",  # a row added and left empty
        "lines.5.qty_per": "",
        "special_operations": "welding\r\n\r\npainting",
    }
    assert decode(schema, values) == {
        "lines": [
            {"item": "FRAME", "qty_per": 2, "make_or_buy": "make", "special": True},
            {"item": "BOLT", "qty_per": 0.25, "make_or_buy": "buy", "lead_days": 14},
        ],
        "special_operations": ["welding", "painting"],
    }
    # What does not read as its type goes to the API as typed, for its 422 at the field; a
    # required text left empty is sent empty, for its own rule to judge.
    assert decode(schema, {"lines.0.qty_per": "lots", "lines.0.lead_days": "1.5"})["lines"] == [
        {"item": "", "qty_per": "lots", "lead_days": "1.5"}
    ]
    plan = TASK_KINDS["planning.master_plan"].payload.model_json_schema()
    assert decode(plan, {}) == {"accept_proposal": False}
    assert decode(plan, {"accept_proposal": "true", "milestones.ship": ""}) == {
        "accept_proposal": True
    }
    assert decode(plan, {"milestones.ship": "2030-01-02"}) == {
        "accept_proposal": False,
        "milestones": {"ship": "2030-01-02"},
    }
    review = TASK_KINDS["engineering.contract_review"].payload.model_json_schema()
    assert decode(review, {"ok": "", "design_days": ""}) == {"issues": []}
    assert decode(review, {"ok": "false", "design_days": "3"}) == {
        "ok": False,
        "design_days": 3,
        "issues": [],
    }


def test_problems_land_at_their_field_or_at_the_top() -> None:
    schema = TASK_KINDS["engineering.release_bom"].payload.model_json_schema()
    values = {"lines.0.item": "A", "special_operations": "x"}
    fields = form_fields(schema, values, {})
    placed, loose = place_problems(
        {
            "lines.0.qty_per": "Field required",
            "special_operations.0": "too long",
            "lines.7.item": "no such row",
            "body": "the BOM has a cycle",
        },
        fields,
    )
    assert placed == {
        "lines.0.qty_per": "Field required",
        "special_operations": "too long",
        "lines": "no such row",
    }
    assert loose == [("body", "the BOM has a cycle")]
    html = render_form_html(schema, values, placed, "en")
    assert 'aria-describedby="f-lines-0-qty_per-problem"' in html
    assert "Field required" in html


def test_every_field_and_choice_has_both_languages() -> None:
    names: set[str] = set()
    choices: set[str] = set()

    def walk(node: Any) -> None:
        for name, child in node.properties.items():
            names.add(name)
            walk(child)
        if node.item is not None:
            walk(node.item)
        choices.update(node.options)

    for spec in TASK_KINDS.values():
        walk(payload_shape(spec.payload.model_json_schema()))
    for lang in ("en", "zh"):
        missing = {f"field.{n}" for n in names} | {f"choice.{c}" for c in choices}
        assert missing <= set(MESSAGES[lang]), sorted(missing - set(MESSAGES[lang]))


def test_an_open_task_starts_from_its_context() -> None:
    picking = TASK_KINDS["warehouse.picking"].payload.model_json_schema()
    context = {
        "pick_list": [{"item": "FRAME", "qty": "2", "special": False}, {"item": "BOLT"}],
        "not_available": [],
        "production_start": "2030-01-02",
    }
    assert prefill(picking, context) == {"lines.0.item": "FRAME", "lines.1.item": "BOLT"}
    po = TASK_KINDS["procurement.place_po"].payload.model_json_schema()
    assert prefill(po, {"supplier": "ACME", "qty": 3, "approved": True}) == {"supplier": "ACME"}
    # A list that needs rows starts with an empty one; a list that may be empty with none.
    drawings = TASK_KINDS["engineering.release_drawings"].payload.model_json_schema()
    (listed,) = form_fields(drawings, {}, {})
    assert [f.path for f in listed.rows[0]][:2] == ["drawings.0.number", "drawings.0.title"]
    # The BOM's lines may give way to a draft's id (issue 17): no row until one is added.
    bom = TASK_KINDS["engineering.release_bom"].payload.model_json_schema()
    assert [f.rows for f in form_fields(bom, {}, {}) if f.name == "lines"] == [[]]
    design = TASK_KINDS["engineering.design_change"].payload.model_json_schema()
    assert [f.rows for f in form_fields(design, {}, {}) if f.name == "bom_changes"] == [[]]


def test_the_context_reads_as_a_list_of_terms() -> None:
    t = translator("en")
    rows = context_rows(
        {"lines": [{"item": "A", "qty": "2"}, {"item": "B", "unit": "pc"}], "ok": True, "x": [1]},
        t,
    )
    assert rows == [
        ("lines", {"columns": ["item", "qty", "unit"], "rows": [["A", "2", ""], ["B", "", "pc"]]}),
        ("ok", "Yes"),
        ("x", "[1]"),
    ]
