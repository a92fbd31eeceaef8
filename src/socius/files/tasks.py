"""File jobs: the hourly sweep of stored bytes no live file names."""

from __future__ import annotations

from socius.config import get_settings
from socius.core.jobs import job
from socius.core.runtime import database
from socius.files import service


@job("files_sweep", cron="17 * * * *", queueing_lock="files_sweep")
async def files_sweep(timestamp: int) -> None:
    await service.sweep_store(database().transaction, get_settings())
