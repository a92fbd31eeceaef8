"""`socius directory …`: sources, SCIM tokens, LDAP syncs and CSV imports from the command line."""

from __future__ import annotations

import json
import os
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

app = typer.Typer(no_args_is_help=True, help="Directory sources: SCIM, LDAP/Active Directory, CSV.")
console = Console()


def _run(step):
    from socius.cli import _run as run_with_database

    return run_with_database(step)


@app.command("add-source")
def add_source(
    name: str,
    kind: str = typer.Option(..., help="scim, ldap or csv"),
    precedence: int = typer.Option(100, help="Higher wins when sources disagree about a field."),
    link_by: list[str] = typer.Option([], help="Attributes this source vouches for: email, employee_number."),
    mapping: str = typer.Option("{}", help='JSON: source attribute → profile field, e.g. {"mail": "email"}.'),
    config: str = typer.Option("{}", help="JSON: LDAP servers, base DN, filters, TLS, page size."),
    bind_password_env: str = typer.Option(None, help="Name of an environment variable holding the bind password."),
    interval_minutes: int = typer.Option(0, help="Minutes between scheduled syncs (0: only by hand)."),
    min_seen_ratio: float = typer.Option(0.9, help="Deactivate nobody if a sync sees fewer than this share."),
    flavor: str = typer.Option(None, help="LDAP: openldap or ad (AD: default mapping, uSNChanged incremental)."),
    start_tls: bool = typer.Option(None, "--start-tls", help="LDAP: upgrade ldap:// connections with StartTLS."),
    ca_file: str = typer.Option(None, help="LDAP: PEM file of the CA(s) that sign the servers' certificates."),
    verify: bool = typer.Option(None, "--verify/--no-verify",
                                help="LDAP: verify the server's certificate (the default; --no-verify is unsafe)."),
    group_base_dn: str = typer.Option(None, help="LDAP: where to search groups (member / uniqueMember)."),
    department_groups: str = typer.Option(
        None, help='LDAP: JSON, group DN or cn → department, in priority order, e.g. {"R&D": "研發部"}.'),
    department_groups_under: str = typer.Option(
        None, help="LDAP: groups directly under this DN are departments, named by their cn."),
) -> None:
    """Add a directory source."""
    from socius.directory import ldap, service

    try:
        parsed_mapping, parsed_config = json.loads(mapping), json.loads(config)
        groups = json.loads(department_groups) if department_groups is not None else None
    except json.JSONDecodeError as error:
        console.print(f"[red]Not valid JSON: {error}[/red]")
        raise typer.Exit(2) from None
    # The options are shorthands for config keys (they win over the same key in --config).
    options = {"flavor": flavor, "start_tls": start_tls, "ca_file": ca_file, "validate": verify,
               "group_base_dn": group_base_dn, "department_groups": groups,
               "department_groups_under": department_groups_under}
    parsed_config = {**parsed_config, **{k: v for k, v in options.items() if v is not None}}
    if kind == "ldap":
        problems = ldap.config_problems(parsed_config, partial=True)
        for key, reason in problems:
            console.print(f"[red]config.{key} {reason}[/red]")
        if problems:
            raise typer.Exit(2)

    async def step(database, settings, url):
        async with database.transaction() as db:
            source = await service.create_source(
                db, None, name=name, kind=kind, precedence=precedence, link_by=link_by,
                mapping=parsed_mapping, config=parsed_config, interval_minutes=interval_minutes,
                min_seen_ratio=min_seen_ratio,
            )
            if bind_password_env:
                source.secret_encrypted = service.encrypt_secret(settings.resolved_secret_key,
                                                                 os.environ[bind_password_env])
            return source.id

    source_id = _fail_clearly(step)
    console.print(f"Source [bold]{name}[/bold] added (id {source_id}).")


@app.command("set-password")
def set_password(source: str, bind_password_env: str = typer.Option(
        ..., help="Name of an environment variable holding the new bind password.")) -> None:
    """Store a new LDAP bind password for SOURCE (encrypted; never shown or logged)."""
    from socius.admin import service as audit
    from socius.directory import service

    if bind_password_env not in os.environ:
        console.print(f"[red]{bind_password_env} is not set.[/red]")
        raise typer.Exit(2)

    async def step(database, settings, url):
        async with database.transaction() as db:
            found = await service.source_by_name(db, source)
            if found is None:
                return False
            found.secret_encrypted = service.encrypt_secret(settings.resolved_secret_key,
                                                            os.environ[bind_password_env])
            await audit.record(db, None, "directory.source_password", "directory_source", found.id)
            return True

    if not _fail_clearly(step):
        console.print(f"[red]No source named {source}.[/red]")
        raise typer.Exit(2)
    console.print(f"Bind password of [bold]{source}[/bold] stored.")


@app.command("scim-token")
def scim_token(source: str) -> None:
    """Create (or re-key) the SCIM source SOURCE and print its bearer token once."""
    from socius.directory import service

    async def step(database, settings, url):
        async with database.transaction() as db:
            found = await service.source_by_name(db, source)
            if found is None:
                found = await service.create_source(db, None, name=source, kind="scim", link_by=["email"])
            elif found.kind != "scim":
                return None
            return await service.issue_scim_token(db, found)

    raw = _fail_clearly(step)
    if raw is None:
        console.print(f"[red]{source} is not a SCIM source.[/red]")
        raise typer.Exit(2)
    print(raw)


@app.command("sync")
def sync(source: str, full: bool = typer.Option(True, "--full/--incremental")) -> None:
    """Sync an LDAP/Active Directory source now, with a progress bar, and print its report."""
    from socius.directory import ldap

    report = _with_progress(lambda database, settings, progress: ldap.sync_source(
        database, settings, source, full=full, progress=progress))
    _print_report(report)


@app.command("import-csv")
def import_csv(
    source: str,
    file: Path,
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would change; change nothing."),
) -> None:
    """Import people from an HR export (CSV) into SOURCE."""
    from socius.directory import csv_import

    report = _with_progress(lambda database, settings, progress: csv_import.import_csv(
        database, source, file, dry_run=dry_run, progress=progress))
    _print_report(report)


def _with_progress(start):
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console) as bar:
        task = bar.add_task("entries", total=None)

        def progress(done: int, total: int | None = None) -> None:
            bar.update(task, completed=done, total=total)

        return _fail_clearly(lambda database, settings, url: start(database, settings, progress))


def _print_report(report) -> None:
    if report is None:
        console.print("[red]No such source.[/red]")
        raise typer.Exit(2)
    title = "dry run: nothing was changed" if report.dry_run else report.status
    console.print(f"[bold]Sync {report.id}[/bold] ({title}): seen {report.seen}")
    for key, value in sorted(report.counts.items()):
        console.print(f"  {key:<12} {value}")
    if report.note:
        console.print(f"[yellow]{report.note}[/yellow]")
    for error in report.errors[:20]:
        console.print(f"  [red]{error.get('entry')}[/red] {error.get('field', '')}: {error.get('reason')}")
    if len(report.errors) > 20:
        console.print(f"  … and {len(report.errors) - 20} more errors")
    if report.status == "failed":
        raise typer.Exit(1)


def _fail_clearly(step):
    from socius.core.errors import ValidationFailed

    try:
        return _run(step)
    except ValidationFailed as error:
        for name, reason in error.by_field().items():
            console.print(f"[red]{name}: {reason}[/red]")
        raise typer.Exit(2) from None
