"""Every table of every department, imported so the metadata (and Alembic) sees them all."""

from __future__ import annotations

import importlib

from shared import timeline as timeline_models
from shared.escalations import ack_links as ack_link_models
from shared.escalations import models as escalation_models
from shared.models import metadata
from shared.settings import DEPARTMENTS
from shared.working_time import models as calendar_models

SCHEMAS: tuple[str, ...] = (*DEPARTMENTS, "escalation", "calendar")

for _dept in DEPARTMENTS:
    importlib.import_module(f"services.{_dept}.models")

__all__ = [
    "SCHEMAS",
    "ack_link_models",
    "calendar_models",
    "escalation_models",
    "metadata",
    "timeline_models",
]
