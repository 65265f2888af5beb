"""Aftersales routes: the department's inbox and what engineering released to it."""

from __future__ import annotations

from fastapi import APIRouter

from services.engineering.api import release_router
from services.tasks.api import task_router

router = APIRouter(prefix="/aftersales", tags=["aftersales"])
router.include_router(task_router("aftersales"))
router.include_router(release_router("aftersales"))
