"""Apply migrations (Alembic) at start, so a new version upgrades its database by itself."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from socius.core.db import sync_url

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", sync_url(url).replace("%", "%%"))
    return config


def upgrade(url: str) -> None:
    command.upgrade(alembic_config(url), "head")
