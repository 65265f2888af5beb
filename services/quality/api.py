"""Quality routes: the department's inbox and what engineering released to it."""

from __future__ import annotations

from fastapi import APIRouter

from services.engineering.api import release_router
from shared.tasks.api import task_router

router = APIRouter(prefix="/quality", tags=["quality"])
router.include_router(task_router("quality"))
router.include_router(release_router("quality"))
