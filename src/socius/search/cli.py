"""`socius search …`: rebuild the index aside and swap it in, compare the index with the database."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

app = typer.Typer(no_args_is_help=True, help="The search index: rebuild, check.")
console = Console()


def _run(step):
    from socius.cli import _run as run_with_database

    return run_with_database(step)


@app.command()
def reindex() -> None:
    """Rebuild the whole index from PostgreSQL beside the current one, then swap; search stays online."""
    from socius.search import indexer
    from socius.search.runtime import index_root

    async def step(database, settings, url):
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=console, transient=False) as progress:
            tasks: dict[str, int] = {}

            def on_progress(kind: str, done: int, total: int) -> None:
                if kind not in tasks:
                    tasks[kind] = progress.add_task(kind, total=total)
                progress.update(tasks[kind], completed=done, total=max(total, done))

            return await indexer.rebuild(database, url, index_root(settings), on_progress=on_progress)

    report = _run(step)
    console.print(f"Indexed {report.documents} documents, replayed {report.replayed} changes made meanwhile; "
                  f"now serving {report.generation.name}.")


@app.command()
def check(as_json: bool = typer.Option(False, "--json", help="Print the report as JSON.")) -> None:
    """Compare the index with the database and report drift (exit 1 if they differ)."""
    from socius.search import indexer
    from socius.search.runtime import backend_for

    async def step(database, settings, url):
        async with database.transaction() as db:
            return await indexer.check(db, backend_for(settings))

    report = _run(step)
    if as_json:
        print(json.dumps({"in_step": report.in_step, "pending": report.pending, "kinds": report.per_kind,
                          "missing": report.missing, "extra": report.extra, "shards": report.shards,
                          "shards_advised": report.shards_advised}))
    else:
        for kind, counts in report.per_kind.items():
            console.print(f"{kind}: {counts['database']} in the database, {counts['index']} in the index, "
                          f"{counts['missing']} missing, {counts['extra']} extra")
            if report.missing.get(kind):
                console.print(f"  missing (first ids): {report.missing[kind]}")
            if report.extra.get(kind):
                console.print(f"  extra (first ids): {report.extra[kind]}")
        console.print(f"{report.pending} changes waiting in the outbox.")
        console.print(f"Shards: {report.shards}" + (
            f"; `socius search reindex` would make {report.shards_advised} (faster searches at this size)."
            if report.shards_advised != report.shards else "."))
        console.print("In step." if report.in_step else "[red]Drift: run `socius search reindex`.[/red]")
    if not report.in_step:
        raise typer.Exit(1)
