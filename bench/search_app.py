"""The Socius app as `socius serve --no-worker` builds it, plus the benchmark's content kind.

Run by bench/search.py: `uvicorn search_app:app --app-dir bench` with SOCIUS_DATABASE_URL and SOCIUS_DATA_DIR
set to the benchmark's database and data directory. No indexer runs here: the benchmark builds the index first.
"""

from __future__ import annotations

import os

from search_kind import ensure_registered

from socius.app import create_app
from socius.config import get_settings
from socius.core.observability import configure_logging

settings = get_settings()
configure_logging(settings.log_level, settings.log_json)
ensure_registered()
app = create_app(settings, os.environ["SOCIUS_DATABASE_URL"], run_worker=False)
