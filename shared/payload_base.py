"""What every task payload is built on: `Part` (strict, bounded) and `Payload` (a task kind's
completion, parsed with the API's date horizon, extra fields kept within bounds)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any, Self, get_args

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from shared.bounds import check_extra_fields


# Part of a payload: strict, so `"10"` is no integer and `1` no boolean; dates come as ISO text.
class Part(BaseModel):
    model_config = ConfigDict(strict=True)


# Base of every payload: extra fields are allowed and kept with the completed task.
class Payload(Part):
    model_config = ConfigDict(extra="allow", strict=True)

    @classmethod
    def parse(cls, data: Any, *, today: date | None = None) -> Self:
        """Validate JSON-shaped data as the API received it (strict, dates as ISO text).

        With `today` (the API's date), dates are also held within 20 years of it; without it
        (in the workflow, which must stay deterministic) only the fixed outer horizon applies.
        """
        problems = _extra_field_problems(cls, data, ())
        if problems:
            raise ValidationError.from_exception_data(cls.__name__, problems)
        context = {"today": today} if today is not None else None
        return cls.model_validate_json(json.dumps(data, default=str), context=context)


def _parts_in(annotation: Any) -> list[type[Part]]:
    """The Part models a field's annotation holds (through Optional, list and Annotated)."""
    if isinstance(annotation, type) and issubclass(annotation, Part):
        return [annotation]
    return [part for arg in get_args(annotation) for part in _parts_in(arg)]


def _extra_field_problems(
    model: type[Part], data: Any, loc: tuple[str | int, ...]
) -> list[InitErrorDetails]:
    """Extra fields anywhere in `data` that break the bounds, as validation errors.

    They are checked on the raw data because the raw payload is what travels to the workflow
    and the task's JSONB column, extra fields of nested parts included (a model validator
    cannot do it: in strict mode it would turn JSON dates into refused Python strings).
    """
    if not isinstance(data, dict):
        return []
    problems: list[InitErrorDetails] = []
    try:
        check_extra_fields(
            data, set(model.model_fields), where=".".join(map(str, loc)) or "payload"
        )
    except ValueError as exc:
        error = PydanticCustomError("extra_fields", "{detail}", {"detail": str(exc)})
        problems.append(InitErrorDetails(type=error, loc=loc, input=sorted(map(str, data))))
    for name, field in model.model_fields.items():
        value = data.get(name)
        for part in _parts_in(field.annotation):
            items = enumerate(value) if isinstance(value, list) else [(None, value)]
            for index, item in items:
                where = (*loc, name) if index is None else (*loc, name, index)
                problems.extend(_extra_field_problems(part, item, where))
    return problems
