"""Quality tables: the department's inbox (more come with the phases it owns)."""

from __future__ import annotations

from shared.tasks.models import inbox

Task = inbox("quality")
