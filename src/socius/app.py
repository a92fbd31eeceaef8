"""The application factory: one FastAPI app serving pages, the JSON API, health and metrics."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator

import structlog
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text

from socius import __version__
from socius.config import Settings
from socius.core import handlers, runtime
from socius.core.context import RequestContextMiddleware
from socius.core.csrf import csrf_protect
from socius.core.db import Database, TransactionMiddleware
from socius.core.observability import ObservabilityMiddleware, metrics_response
from socius.core.templating import STATIC

log = structlog.get_logger(__name__)


def _freeze_startup_objects() -> None:
    """Move what start-up built (modules, routes, catalogs, every registered kind…) out of the cyclic garbage
    collector's sight: it lives as long as the process. Unfrozen, each full collection walked all of it again —
    measured in the expertise benchmark's server: 200-330 ms a collection, every few hundred requests, landing on
    whichever request happened to trigger it (an 8-skill team allocates ~30,000 objects)."""
    from socius.search import registry

    registry.kinds()  # the modules loaded on first use, so they are frozen too
    gc.collect()
    gc.freeze()


def create_app(settings: Settings, database_url: str, *, run_worker: bool = False) -> FastAPI:
    """Build the app for a database URL. `run_worker` runs the job worker inside this process."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        worker: asyncio.Task | None = None
        if run_worker:
            from socius.core.db import libpq_conninfo
            from socius.core.jobs import build_app

            jobs = build_app(libpq_conninfo(database_url))
            await jobs.open_async()
            worker = asyncio.create_task(jobs.run_worker_async(install_signal_handlers=False))
            log.info("worker_started", mode="in-process")
            from socius.search.indexer import start_indexer

            indexer = start_indexer(app.state.db, database_url, settings)
        _freeze_startup_objects()
        try:
            yield
        finally:
            if worker is not None:
                indexer.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await indexer
                worker.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await worker
                await jobs.close_async()
            await app.state.db.dispose()

    app = FastAPI(
        title="Socius",
        version=__version__,
        lifespan=lifespan,
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
        dependencies=[Depends(csrf_protect)],
    )
    app.state.settings = settings
    app.state.db = Database(database_url, pool_size=settings.db_pool_size)
    runtime.set_database(app.state.db)

    # Outermost first: observe everything, then own the transaction, then know the caller.
    app.add_middleware(RequestContextMiddleware)
    app.add_middleware(TransactionMiddleware)
    app.add_middleware(ObservabilityMiddleware)
    handlers.install(app)

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    _mount_routers(app)
    _mount_health(app)
    return app


def _mount_routers(app: FastAPI) -> None:
    from socius.accounts import api as accounts_api
    from socius.accounts import web as accounts_web
    from socius.activity import api as activity_api
    from socius.activity import web as activity_web
    from socius.admin import web as admin_web
    from socius.blog import api as blog_api
    from socius.blog import web as blog_web
    from socius.bookmarks import api as bookmarks_api
    from socius.bookmarks import web as bookmarks_web
    from socius.communities import api as communities_api
    from socius.communities import web as communities_web
    from socius.content import api as content_api
    from socius.content import web as content_web
    from socius.directory import scim
    from socius.directory import web as directory_web
    from socius.expertise import api as expertise_api
    from socius.expertise import web as expertise_web
    from socius.files import api as files_api
    from socius.files import web as files_web
    from socius.forum import api as forum_api
    from socius.forum import web as forum_web
    from socius.ideas import api as ideas_api
    from socius.ideas import web as ideas_web
    from socius.notifications import api as notifications_api
    from socius.notifications import web as notifications_web
    from socius.people import api as people_api
    from socius.people import web as people_web
    from socius.search import api as search_api
    from socius.search import web as search_web
    from socius.wiki import api as wiki_api
    from socius.wiki import web as wiki_web

    for module in (accounts_api, people_api, search_api, expertise_api, notifications_api, communities_api,
                   content_api, forum_api, blog_api, bookmarks_api, wiki_api, files_api, activity_api, ideas_api):
        app.include_router(module.router, prefix="/api/v1")
    for module in (accounts_web, people_web, admin_web, directory_web, search_web, expertise_web,
                   notifications_web, content_web, communities_web, forum_web, blog_web, bookmarks_web, wiki_web,
                   files_web, activity_web, ideas_web):
        app.include_router(module.router)
    app.include_router(scim.router)


def _mount_health(app: FastAPI) -> None:
    @app.get("/healthz", include_in_schema=False)
    async def healthz(request: Request) -> Response:
        try:
            async with request.app.state.db.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception as error:  # report, don't crash: this is what load balancers poll
            log.warning("healthz_database_unreachable", error=type(error).__name__)
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok", "version": __version__})

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        body, content_type = metrics_response()
        return Response(body, media_type=content_type)
