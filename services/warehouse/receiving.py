"""Receiving against a purchase order and its delivery note (P6.1): `POST /warehouse/receipts`."""

from __future__ import annotations

from fastapi import APIRouter

receipt_router = APIRouter(tags=["warehouse"])
