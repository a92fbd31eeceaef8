"""The modules that plug into others when imported: apps registering where their items are shown
(`content.ITEM_URLS`), their notification kinds, their expertise evidence and where a community came from
(`communities.ORIGINS`). Anything that reads those
registries — pages, jobs in a worker, the search indexer, a test — calls `load_all()` first, so what it sees does
not depend on which routers happen to have been imported."""

from __future__ import annotations

import importlib

PLUGGED = ("socius.forum.service", "socius.blog.service", "socius.bookmarks.service", "socius.wiki.service",
           "socius.files.service", "socius.activity.service", "socius.ideas.service",
           "socius.ideas.graduation")
_loaded = False


def load_all() -> None:
    global _loaded
    if not _loaded:
        for name in PLUGGED:
            importlib.import_module(name)
        _loaded = True
