"""CSV import of HR exports: read the rows, map the columns, hand the records to the engine.

The file is UTF-8 (with or without a byte-order mark) with a header row. Columns map to profile fields by
`source.mapping` (column → field) or, without one, by the usual header names below. `source.config` keys:
`manager_column` (the manager's external id), `external_id_column`, `full` (default true: people missing from
the file are deactivated, within the safety rules).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from sqlalchemy import text

from socius.admin import service as audit
from socius.core.db import Database
from socius.core.errors import ValidationFailed
from socius.core.i18n import N_
from socius.directory import service
from socius.directory.models import DirectorySource, DirectorySync, SourceKind

# Header (compared case-insensitively, spaces and dashes as underscores) → profile field.
DEFAULT_MAPPING = {
    "display_name": "display_name", "name": "display_name", "name_native": "name_native",
    "name_latin": "name_latin", "email": "email", "e_mail": "email", "mail": "email",
    "employee_number": "employee_number", "title": "title", "job_title": "title", "department": "department",
    "location": "location", "office": "location", "phone": "phone", "telephone": "phone", "time_zone": "time_zone",
}
EXTERNAL_ID_COLUMNS = ("external_id", "employee_id", "id")
MANAGER_COLUMNS = ("manager", "manager_id", "manager_external_id")
MAX_BYTES = 200 * 1024 * 1024


class UnreadableFile(Exception):
    """The file as a whole cannot be read; the message goes into the report."""


def _key(header: str) -> str:
    return header.strip().lower().replace(" ", "_").replace("-", "_")


def read_rows(data: bytes, source: DirectorySource) -> tuple[list, dict[str, int]]:
    """Records (or `{"error": …}` for broken rows, named by row number; the header is row 1), and each record's
    row number. Raises UnreadableFile if the file as a whole cannot be read."""
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UnreadableFile(f"the file is not UTF-8 text (byte {error.start} is not)") from None
    reader = csv.reader(io.StringIO(content, newline=""))
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        raise UnreadableFile("the file has no header row") from None
    columns = [_key(h) for h in header]
    config = source.config or {}
    if source.mapping:
        mapping = {_key(column): field_name for column, field_name in source.mapping.items()}
    else:
        mapping = {c: DEFAULT_MAPPING[c] for c in columns if c in DEFAULT_MAPPING}
    id_column = _key(config["external_id_column"]) if config.get("external_id_column") else \
        next((c for c in EXTERNAL_ID_COLUMNS if c in columns), None)
    if id_column is None or id_column not in columns:
        raise UnreadableFile(f"the file needs an external id column ({', '.join(EXTERNAL_ID_COLUMNS)})")
    manager_column = _key(config["manager_column"]) if config.get("manager_column") else \
        next((c for c in MANAGER_COLUMNS if c in columns), None)

    records: list = []
    rows: dict[str, int] = {}
    row_number = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            row_number = reader.line_num
            records.append({"error": {"entry": f"row {row_number}", "field": "", "reason": str(error)}})
            continue
        row_number += 1
        if not any(cell.strip() for cell in cells):
            continue  # blank line
        if len(cells) != len(columns):
            records.append({"error": {"entry": f"row {row_number}", "field": "",
                                      "reason": f"has {len(cells)} cells, the header has {len(columns)}"}})
            continue
        row = dict(zip(columns, cells, strict=True))
        external_id = row[id_column].strip()
        if not external_id:
            records.append({"error": {"entry": f"row {row_number}", "field": id_column, "reason": "is empty"}})
            continue
        if external_id in rows:
            records.append({"error": {"entry": f"row {row_number}", "field": id_column,
                                      "reason": f"repeats row {rows[external_id]}"}})
            continue
        values: dict[str, Any] = {}
        for column, field_name in mapping.items():
            value = row.get(column, "").strip()
            if value and field_name not in values:
                # Stored e-mail addresses are lower case: compare like with like, or every run "updates" them.
                values[field_name] = value.lower() if field_name == "email" else value
        manager = row.get(manager_column, "").strip() if manager_column else ""
        rows[external_id] = row_number
        records.append(service.Record(external_id=external_id, values=values, manager_external_id=manager or None))
    return records, rows


def _with_rows(errors: list[dict], rows: dict[str, int]) -> list[dict]:
    """Name the row of errors the engine reported by external id."""
    return [{**e, "row": rows[e["entry"]]} if e.get("entry") in rows and "row" not in e else e for e in errors]


def _detached(sync: DirectorySync) -> DirectorySync:
    """A copy of a report that outlives the rolled-back transaction it was written in."""
    return DirectorySync(
        id=sync.id, source_id=sync.source_id, started_at=sync.started_at, finished_at=sync.finished_at,
        status=sync.status, dry_run=True, seen=sync.seen, counts=dict(sync.counts), errors=list(sync.errors),
        note=sync.note,
    )


async def import_csv(
    database: Database, source_name: str, path: Path, *, dry_run: bool = False, progress=None
) -> DirectorySync | None:
    """Import an HR export into a CSV source; with dry_run, report what would change and change nothing."""
    async with database.sessionmaker() as db:
        transaction = await db.begin()
        try:
            source = await service.source_by_name(db, source_name)
            if source is None:
                return None
            if source.kind != SourceKind.CSV:
                raise ValidationFailed.one("source", N_("must be one of {values}"), values="CSV")
            await db.execute(text("SELECT pg_advisory_xact_lock(7411, :id)"), {"id": source.id})
            full = bool((source.config or {}).get("full", True))
            failure = None
            records: list = []
            rows: dict[str, int] = {}
            try:
                data = Path(path).read_bytes() if Path(path).stat().st_size <= MAX_BYTES else None
                if data is None:
                    failure = f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB"
                else:
                    records, rows = read_rows(data, source)
            except OSError as error:
                failure = f"cannot read the file: {error.strerror or error}"
            except UnreadableFile as error:
                failure = str(error)
            total = len(records)
            sync = await service.run_batch(
                db, source, records, dry_run=dry_run, full=full, failure=failure,
                progress=(lambda done: progress(done, total)) if progress else None,
            )
            sync.errors = _with_rows(sync.errors, rows)
            await db.flush()
            if dry_run:
                report = _detached(sync)
                await transaction.rollback()
                # The audit log says a dry run happened, in a transaction of its own that keeps nothing else.
                async with database.transaction() as audit_db:
                    await audit.record(audit_db, None, "directory.dry_run", "directory_source", report.source_id,
                                       new={"counts": report.counts, "errors": len(report.errors),
                                            "note": report.note, "file": Path(path).name})
                return report
            await transaction.commit()
            return sync
        finally:
            if transaction.is_active:
                await transaction.rollback()
