"""The embedded default: a private PostgreSQL in the data directory.

`pgserver` ships PostgreSQL 16 binaries in its wheel. Where it has no wheel (Python 3.13, other platforms),
we fall back to `initdb`/`pg_ctl` found on PATH. Either way the server listens on a Unix socket inside the
data directory only, and is stopped when the process that started it exits.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import subprocess
import warnings
from pathlib import Path

import structlog

log = structlog.get_logger(__name__)


def start_embedded_postgres(data_dir: Path, *, database: str = "socius") -> str:
    """Start (or reuse) the private server and return a SQLAlchemy URL for `database`."""
    pgdata = (data_dir / "pgdata").resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR on servers
            import pgserver
        logging.getLogger("pgserver").setLevel(logging.WARNING)  # it logs every pg_ctl call
    except ImportError:
        socket_dir = _start_with_system_binaries(pgdata)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            server = pgserver.get_server(pgdata, cleanup_mode="stop")
        socket_dir = Path(server.get_uri().split("host=")[1])
    _ensure_database(socket_dir, database)
    log.info("embedded_postgres_ready", pgdata=str(pgdata))
    return f"postgresql+psycopg://postgres@/{database}?host={socket_dir}"


def _start_with_system_binaries(pgdata: Path, bin_dir: Path | None = None) -> Path:
    """initdb and pg_ctl from PATH (or bin_dir). PostgreSQL refuses to run as root: then a system user runs it."""
    initdb = str(bin_dir / "initdb") if bin_dir else shutil.which("initdb")
    pg_ctl = str(bin_dir / "pg_ctl") if bin_dir else shutil.which("pg_ctl")
    if not (initdb and pg_ctl and Path(initdb).exists()):
        raise RuntimeError(
            "No embedded PostgreSQL: install the 'pgserver' wheel (CPython 3.11/3.12) or put initdb and pg_ctl "
            "on PATH, or set SOCIUS_DATABASE_URL."
        )
    as_user = _unprivileged_prefix(pgdata)
    if not (pgdata / "PG_VERSION").exists():
        subprocess.run(
            [*as_user, initdb, "-D", str(pgdata), "-U", "postgres", "--auth=trust", "-E", "UTF8",
             "--locale=C.UTF-8"],
            check=True, capture_output=True,
        )
    status = subprocess.run([*as_user, pg_ctl, "-D", str(pgdata), "status"], capture_output=True)
    if status.returncode != 0:
        subprocess.run(
            [*as_user, pg_ctl, "-D", str(pgdata), "-w", "-l", str(pgdata / "server.log"),
             "-o", f"-k {pgdata} -c listen_addresses=''", "start"],
            check=True, capture_output=True,
        )
        atexit.register(stop_system_postgres, pgdata, bin_dir)
    return pgdata


def stop_system_postgres(pgdata: Path, bin_dir: Path | None = None) -> None:
    pg_ctl = str(bin_dir / "pg_ctl") if bin_dir else shutil.which("pg_ctl")
    if pg_ctl:
        subprocess.run([*_unprivileged_prefix(pgdata), pg_ctl, "-D", str(pgdata), "-m", "fast", "stop"],
                       capture_output=True)


SYSTEM_USER = "socius-pg"


def _unprivileged_prefix(pgdata: Path) -> list[str]:
    """As root, run PostgreSQL as a system user that owns the data directory."""
    if os.geteuid() != 0:
        pgdata.mkdir(parents=True, exist_ok=True)
        return []
    import pwd

    try:
        pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", SYSTEM_USER], check=True, capture_output=True)
    pgdata.mkdir(parents=True, exist_ok=True)
    shutil.chown(pgdata, SYSTEM_USER)
    for parent in pgdata.parents:  # the server must be able to reach its directory
        if parent.stat().st_mode & 0o001 == 0:
            parent.chmod(parent.stat().st_mode | 0o001)
        if parent == Path("/"):
            break
    return ["runuser", "-u", SYSTEM_USER, "--"]


def _ensure_database(socket_dir: Path, database: str) -> None:
    import psycopg

    conninfo = f"host={socket_dir} user=postgres dbname=postgres"
    with psycopg.connect(conninfo, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{database}"')  # name is ours, never user input


def database_url_for(settings) -> str:
    """The URL to use: SOCIUS_DATABASE_URL, else the embedded server (started on demand)."""
    if settings.database_url:
        return normalise_url(settings.database_url)
    if os.environ.get("SOCIUS_NO_EMBEDDED"):
        raise RuntimeError("SOCIUS_DATABASE_URL is not set and the embedded server is disabled")
    return start_embedded_postgres(settings.data_dir)


def normalise_url(url: str) -> str:
    """Accept plain postgresql:// URLs and make SQLAlchemy use psycopg 3."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url
