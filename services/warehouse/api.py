"""Warehouse routes: the department's inbox (its own endpoints come with the phases it owns)."""

from __future__ import annotations

from fastapi import APIRouter

from shared.tasks.api import task_router

router = APIRouter(prefix="/warehouse", tags=["warehouse"])
router.include_router(task_router("warehouse"))
