"""Database: typed declarative base, engine, and the request-owned transaction.

Services receive an `AsyncSession` and never commit. `TransactionMiddleware` commits the request's session just
before the response headers are sent when the status is below 400, and rolls back otherwise, so a client never
sees success for a write that did not commit.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import structlog
from fastapi import Request
from sqlalchemy import ColumnElement, DateTime, MetaData, Table, any_, bindparam, column, func
from sqlalchemy import select as _select
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, Insert
from sqlalchemy.dialects.postgresql import insert as _insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql.selectable import TableValuedAlias

from socius.core.i18n import N_, gettext

log = structlog.get_logger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: DateTime(timezone=True)}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def one_of(column: Any, values: Any) -> ColumnElement[bool]:
    """`column = ANY(array)`: one parameter however many values. `IN (…)` renders a placeholder a value, so every
    page of a bulk job sends (and the driver parses) a statement text of its own."""
    return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))


@functools.lru_cache(maxsize=512)
def recordset(table: Table, columns: tuple[str, ...], name: str = "rows") -> TableValuedAlias:
    """Many rows as one JSONB parameter `name`, read back as a table typed like `table`'s columns
    (jsonb_to_recordset). Pass the rows when executing: `db.execute(stmt, {name: rows})`.

    For bulk writes: `INSERT … SELECT` or `UPDATE … FROM` this is one statement for thousands of rows, where an
    executemany sends one statement a row. Values must be JSON-serialisable (ids, text, lists, dicts). Built once
    per (table, columns): building the statement costs more than running it for a few rows."""
    return (func.jsonb_to_recordset(bindparam(name, type_=JSONB))
            .table_valued(*(column(c, table.c[c].type) for c in columns))
            .render_derived(with_types=True))


async def copy_rows(db: AsyncSession, table: Table, rows: list[dict[str, Any]]) -> None:
    """COPY `rows` (all with the same keys) into `table`, in the session's transaction: the fastest way in for
    many new rows (a directory's first load), where nothing can conflict and nothing needs returning."""
    if not rows:
        return
    from psycopg.types.json import Jsonb

    columns = list(rows[0])
    wrap = [isinstance(table.c[name].type, JSONB) for name in columns]
    connection = await (await db.connection()).get_raw_connection()
    names = ", ".join(f'"{name}"' for name in columns)
    async with connection.driver_connection.cursor() as cursor, \
            cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        for row in rows:
            await copy.write_row([Jsonb(row[c]) if j and row[c] is not None else row[c]
                                  for c, j in zip(columns, wrap, strict=True)])


# Below this many rows one INSERT beats COPY, which costs two round trips.
COPY_FROM = 50


async def write_rows(db: AsyncSession, table: Table, rows: list[dict[str, Any]]) -> None:
    """New rows (all with the same keys) in one go: COPY for many, one INSERT for a few."""
    if len(rows) >= COPY_FROM:
        await copy_rows(db, table, rows)
    elif rows:
        await db.execute(insert_rows(table, tuple(rows[0])), {"rows": rows})


@functools.lru_cache(maxsize=512)
def insert_rows(table: Table, columns: tuple[str, ...], name: str = "rows") -> Insert:
    """`INSERT INTO table … SELECT` from the recordset parameter `name` (rows with these keys); add ON CONFLICT at
    will. Built once per (table, columns)."""
    source = recordset(table, columns, name)
    return _insert(table).from_select(list(columns), _select(*(source.c[c] for c in columns)))


@functools.lru_cache(maxsize=64)
def _insert_together(shape: tuple[tuple[Table, tuple[str, ...]], ...], returning: tuple[str, ...]) -> Insert:
    *first, (last_table, last_columns) = shape
    stmt = insert_rows(last_table, last_columns, f"rows{len(first)}")
    if returning:
        stmt = stmt.returning(*(last_table.c[c] for c in returning))
    return stmt.add_cte(*(insert_rows(table, columns, f"rows{i}").cte(f"insert_{i}")
                          for i, (table, columns) in enumerate(first)), nest_here=True)


async def insert_together(
    db: AsyncSession, parts: list[tuple[Table, list[dict[str, Any]]]], returning: tuple[str, ...] = ()
) -> list[Any]:
    """New rows of several tables in one statement, one round trip: each table's rows (all with the same keys) as
    one parameter, in data-modifying CTEs. Foreign keys are checked at the end of the statement, so a row and the
    rows pointing at it may go in together. Returns the `returning` columns of the last table's rows."""
    parts = [(table, rows) for table, rows in parts if rows]
    shape = tuple((table, tuple(rows[0])) for table, rows in parts)
    result = await db.execute(_insert_together(shape, returning),
                              {f"rows{i}": rows for i, (_, rows) in enumerate(parts)})
    return list(result.all()) if returning else []


class Timestamped:
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class Database:
    """The engine and session factory one process shares."""

    def __init__(self, url: str, *, pool_size: int = 10, echo: bool = False) -> None:
        self.url = url
        # No pre-ping: it costs a round trip on every request. A connection the server dropped fails one
        # request (answered 503, see core/handlers.py) and is replaced; pool_recycle retires idle ones first.
        self.engine: AsyncEngine = create_async_engine(
            url, pool_size=pool_size, max_overflow=pool_size, pool_recycle=1800, echo=echo
        )
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=True)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session in a transaction that commits on success: for jobs and CLI commands."""
        async with self.sessionmaker() as session, session.begin():
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()


def sync_url(url: str) -> str:
    """The same database for psycopg used directly (COPY, procrastinate, Alembic)."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def libpq_conninfo(url: str) -> str:
    """A libpq connection string psycopg accepts, from a SQLAlchemy URL."""
    from sqlalchemy.engine import make_url

    u = make_url(url)
    parts: dict[str, Any] = {
        "host": u.query.get("host") or u.host,
        "port": u.port,
        "user": u.username,
        "password": u.password,
        "dbname": u.database,
    }
    return " ".join(f"{k}='{v}'" for k, v in parts.items() if v)


async def get_session(request: Request) -> AsyncSession:
    """The request's session, opened on first use; TransactionMiddleware ends it."""
    state = request.scope.setdefault("state", {})
    session = state.get("db_session")
    if session is None:
        db: Database = request.app.state.db
        session = db.sessionmaker()
        await session.begin()
        state["db_session"] = session
    return session


def commit_despite_error(session: AsyncSession) -> None:
    """Keep what this request recorded although it answers with an error (e.g. a conflict sent to review)."""
    session.info["commit_on_error"] = True


class TransactionMiddleware:
    """Pure ASGI: commit or roll back the request's session before the response starts."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_wrapper(message) -> None:
            nonlocal started
            if message["type"] == "http.response.start" and not started:
                started = True
                session = scope.get("state", {}).pop("db_session", None)
                if session is not None:
                    try:
                        if message["status"] < 400 or session.info.get("commit_on_error"):
                            await session.commit()
                        else:
                            await session.rollback()
                    except Exception:
                        log.exception("commit_failed", path=scope.get("path"))
                        await session.close()
                        await send(_commit_failed_start())
                        message = gettext(N_("The change could not be saved. Please try again."))
                        body = {"error": {"code": "unavailable", "message": message}}
                        await send({"type": "http.response.body", "body": json.dumps(body).encode()})
                        raise _ResponseReplaced from None
                    await session.close()
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except _ResponseReplaced:
            return
        finally:
            session = scope.get("state", {}).pop("db_session", None)
            if session is not None:
                await session.rollback()
                await session.close()


class _ResponseReplaced(Exception):
    pass


def _commit_failed_start() -> dict:
    return {
        "type": "http.response.start",
        "status": 503,
        "headers": [(b"content-type", b"application/json")],
    }
