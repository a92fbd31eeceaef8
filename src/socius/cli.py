"""The `socius` command: serve, worker, migrate, accounts and tokens, demo data and seeding."""

from __future__ import annotations

import asyncio
import getpass
import os
import sys

import typer
from rich.console import Console

from socius.config import Settings, get_settings

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Socius: people, expertise, communities, ideas.")
token_app = typer.Typer(no_args_is_help=True, help="Personal API tokens.")
app.add_typer(token_app, name="token")


def _directory_app() -> typer.Typer:
    from socius.directory.cli import app as directory

    return directory


app.add_typer(_directory_app(), name="directory")


def _search_app() -> typer.Typer:
    from socius.search.cli import app as search

    return search


app.add_typer(_search_app(), name="search")
console = Console()


def _prepare(settings: Settings) -> str:
    """Start the embedded database if needed, apply migrations, and return the database URL."""
    from socius.core.embedded import database_url_for
    from socius.core.migrate import upgrade
    from socius.core.observability import configure_logging

    configure_logging(settings.log_level, settings.log_json)
    url = database_url_for(settings)
    upgrade(url)
    return url


def _run(coro_factory):
    """Run an async CLI step against the database with a process-wide Database."""
    from socius.core import runtime
    from socius.core.db import Database

    settings = get_settings()
    url = _prepare(settings)

    async def main():
        db = Database(url, pool_size=2)
        runtime.set_database(db)
        try:
            return await coro_factory(db, settings, url)
        finally:
            await db.dispose()

    return asyncio.run(main())


@app.command()
def serve(
    host: str = typer.Option(None, help="Address to listen on (default 127.0.0.1, or SOCIUS_HOST)."),
    port: int = typer.Option(None, help="Port (default 8000, or SOCIUS_PORT)."),
    demo: bool = typer.Option(False, "--demo", help="Create the demo company first (once) and print its logins."),
    worker: bool = typer.Option(None, "--worker/--no-worker",
                                help="Run the job worker in this process (default: on with the embedded database)."),
) -> None:
    """Serve the web app and API (and, on the embedded database, the job worker)."""
    import uvicorn

    from socius.app import create_app

    settings = get_settings()
    url = _prepare(settings)
    if demo:
        from socius.demo.generate import ensure_demo

        logins = asyncio.run(_with_db(url, lambda db: ensure_demo(db, settings)))
        _print_logins(logins, host or settings.host, port or settings.port)
    run_worker = worker if worker is not None else not settings.database_url
    application = create_app(settings, url, run_worker=run_worker)
    uvicorn.run(application, host=host or settings.host, port=port or settings.port, log_config=None,
                proxy_headers=True, server_header=False)


async def _with_db(url, fn):
    from socius.core import runtime
    from socius.core.db import Database

    db = Database(url, pool_size=2)
    runtime.set_database(db)
    try:
        return await fn(db)
    finally:
        await db.dispose()


def _print_logins(logins, host: str, port: int) -> None:
    console.print(f"\n[bold]Socius demo[/bold] at http://{host}:{port}/  — sign in as:")
    for role, username, password in logins:
        console.print(f"  {role:<14} [bold]{username}[/bold]  password [bold]{password}[/bold]")
    console.print()


@app.command()
def worker(concurrency: int = typer.Option(4, help="Jobs run at once by this worker.")) -> None:
    """Run a job worker (for deployments with separate web and worker processes)."""
    from socius.core.db import libpq_conninfo
    from socius.core.jobs import build_app

    settings = get_settings()
    url = _prepare(settings)
    from socius.core import runtime
    from socius.core.db import Database

    async def main():
        database = Database(url, pool_size=concurrency)
        runtime.set_database(database)
        jobs = build_app(libpq_conninfo(url))
        from socius.search.indexer import start_indexer

        indexer = start_indexer(database, url, settings)  # noqa: F841 - runs as long as the worker
        async with jobs.open_async():
            await jobs.run_worker_async(concurrency=concurrency)

    asyncio.run(main())


@app.command()
def migrate() -> None:
    """Apply database migrations (serve and worker do this by themselves)."""
    _prepare(get_settings())
    console.print("Database is up to date.")


@app.command()
def createadmin(
    username: str,
    display_name: str = typer.Option(None, help="Name shown in the directory (default: the username)."),
    email: str = typer.Option(None, help="E-mail address."),
) -> None:
    """Create an administrator. The password comes from a prompt, or SOCIUS_ADMIN_PASSWORD for scripts."""
    password = os.environ.get("SOCIUS_ADMIN_PASSWORD")
    if password is None:
        if not sys.stdin.isatty():
            console.print("[red]No terminal to ask for a password: set SOCIUS_ADMIN_PASSWORD.[/red]")
            raise typer.Exit(2)
        password = getpass.getpass("Password: ")
        if getpass.getpass("Password (again): ") != password:
            console.print("[red]The passwords differ.[/red]")
            raise typer.Exit(2)

    async def step(db, settings, url):
        from socius.accounts import service as accounts
        from socius.people import service as people
        from socius.people.models import Role

        async with db.transaction() as session:
            person = await people.create_person(
                session, None, display_name=display_name or username, email=email, role=Role.ADMINISTRATOR
            )
            await accounts.create_account(session, person, username, password)
        return person.id

    from socius.core.errors import ValidationFailed

    try:
        person_id = _run(step)
    except ValidationFailed as error:
        for field, reason in error.by_field().items():
            console.print(f"[red]{field}: {reason}[/red]")
        raise typer.Exit(2) from None
    console.print(f"Administrator [bold]{username}[/bold] created (person {person_id}).")


@token_app.command("create")
def token_create(
    username: str,
    name: str = typer.Option("cli", help="A label to tell this token apart from others."),
) -> None:
    """Create a personal API token for USERNAME and print it once."""

    async def step(db, settings, url):
        from sqlalchemy import select

        from socius.accounts import service as accounts
        from socius.accounts.models import Account

        async with db.transaction() as session:
            account = await session.scalar(select(Account).where(Account.username == username.strip().lower()))
            if account is None:
                return None
            _token, raw = await accounts.create_token(session, account.person_id, name, None)
        return raw

    raw = _run(step)
    if raw is None:
        console.print(f"[red]No account named {username}.[/red]")
        raise typer.Exit(1)
    # Only the token on stdout, so scripts can capture it.
    print(raw)


@app.command()
def demo() -> None:
    """Create the demo company (once) and print how to sign in."""
    from socius.demo.generate import ensure_demo

    settings = get_settings()
    logins = _run(lambda db, s, url: ensure_demo(db, s))
    _print_logins(logins, settings.host, settings.port)


@app.command()
def seed(people: int = typer.Option(..., "--people", min=1, max=2_000_000,
                                    help="How many synthetic people to add.")) -> None:
    """Add a large synthetic organisation fast (COPY), for benchmarks."""
    from socius.demo.seed import seed_people

    settings = get_settings()
    url = _prepare(settings)
    seed_people(url, people, console=console)


if __name__ == "__main__":
    app()
