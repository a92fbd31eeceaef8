"""The Socius app as `socius serve --no-worker` builds it, with the benchmark's content kind as expert evidence.

Run by bench/expertise.py: `uvicorn expertise_app:app --app-dir bench`, like bench/search_app.py.
"""

from __future__ import annotations

from search_app import app  # noqa: F401 - the app, with bench_item registered as a search kind
from search_kind import NAME

from socius.expertise.finder import EvidenceKind, register_evidence

register_evidence(EvidenceKind(NAME, "wrote %(num)d item on it", "wrote %(num)d items on it"))
