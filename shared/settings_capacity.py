"""What the plant's processes hold at once: the worker's workflow cache and the largest request
bodies the API reads (issue 17). `Settings` inherits them."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings


class CapacitySettings(BaseSettings):
    # Workflows a worker keeps in memory between their tasks (the SDK's `max_cached_workflows`).
    # A cached order answers its next update at once; an evicted one replays its history first
    # (CPU and a history fetch, more for a long order). A cached order parked at contract
    # review costs ~0.25 MiB of worker RSS (bench/bench_rss.py: 1,000 open orders 401 MiB with
    # 1000, 224 MiB with 200), up to ~0.5 MiB later in its life: 1,000 stay under 1 GiB. 0
    # disables the cache (and sticky task queues).
    max_cached_workflows: int = Field(default=1000, ge=0, le=100_000)
    # The largest request body the API reads (bytes, `ORDERFLOW_MAX_BODY_BYTES`); a larger one
    # gets 413 before it is read.
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    # The largest BOM upload (`POST /engineering/orders/{order_no}/bom-drafts`, bytes,
    # `ORDERFLOW_MAX_UPLOAD_BYTES`): 100,000 lines as JSON are about 12 MB.
    max_upload_bytes: int = Field(default=48 * 1_048_576, ge=1024)
