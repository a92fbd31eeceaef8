"""The search backend of this process: one per data directory, shared by pages, the API and the indexer."""

from __future__ import annotations

import threading
from pathlib import Path

from fastapi import Request

from socius.config import Settings
from socius.search.tantivy_backend import TantivyBackend

_backends: dict[Path, TantivyBackend] = {}
_lock = threading.Lock()


def index_root(settings: Settings) -> Path:
    return settings.data_dir / "search"


def backend_for(settings: Settings) -> TantivyBackend:
    root = index_root(settings).resolve()
    with _lock:
        if root not in _backends:
            from socius.search import registry

            registry.kinds()  # kind codes are needed to read the index
            _backends[root] = TantivyBackend(root)
        return _backends[root]


def from_request(request: Request) -> TantivyBackend:
    """The app's backend (tests put their own in `app.state.search`), opened on first use."""
    state = request.app.state
    backend = getattr(state, "search", None)
    if backend is None:
        backend = state.search = backend_for(state.settings)
    return backend
