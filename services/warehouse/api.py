"""Warehouse routes: the department's inbox and what engineering released to it."""

from __future__ import annotations

from fastapi import APIRouter

from services.engineering.api import release_router
from shared.tasks.api import task_router

router = APIRouter(prefix="/warehouse", tags=["warehouse"])
router.include_router(task_router("warehouse"))
router.include_router(release_router("warehouse"))
