"""CSV import of HR exports: rows become people, broken rows are reported by number, dry runs change nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from socius.admin.models import AuditEntry
from socius.core.db import Database
from socius.core.errors import ValidationFailed
from socius.directory import csv_import, service
from socius.directory.models import DirectorySource, DirectorySync, SyncStatus
from socius.people.models import Person

EXPORT = """\ufeffEmployee ID,Name,Email,Title,Department,Manager,Location
1001,陳美玲,MeiLing@Example.com,Engineer,研發部,1002,台北
1002,Wang Da-wei,dawei@example.com,Director,研發部,,台北
1003,Lin Yi,lin@example.com,Designer,設計部,1002,新竹
"""


@pytest.fixture
async def database(scratch_database):
    """Imports commit (or, for a dry run, really roll back): a database of this test's own."""
    db = Database(scratch_database, pool_size=2)
    async with db.transaction() as session:
        await service.create_source(session, None, name="HR", kind="csv", link_by=["email"], min_seen_ratio=0.5)
    yield db
    await db.dispose()


def write(tmp_path, text: str, name: str = "export.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


async def people(database) -> dict[str, Person]:
    async with database.transaction() as db:
        return {p.email: p for p in await db.scalars(select(Person))}


async def test_an_export_becomes_people_with_managers(database, tmp_path):
    ticks = []
    report = await csv_import.import_csv(database, "HR", write(tmp_path, EXPORT),
                                         progress=lambda done, total=None: ticks.append((done, total)))
    assert report.status == SyncStatus.SUCCEEDED and not report.dry_run
    assert report.counts["added"] == 3 and report.seen == 3 and report.errors == []
    assert ticks[-1] == (3, 3)
    found = await people(database)
    meiling, dawei = found["meiling@example.com"], found["dawei@example.com"]
    assert (meiling.display_name, meiling.title, meiling.department, meiling.location) == \
        ("陳美玲", "Engineer", "研發部", "台北")
    assert meiling.manager_id == dawei.id and found["lin@example.com"].manager_id == dawei.id


async def test_importing_the_same_file_again_changes_nothing(database, tmp_path):
    path = write(tmp_path, EXPORT)
    await csv_import.import_csv(database, "HR", path)
    again = await csv_import.import_csv(database, "HR", path)
    assert again.counts == {"unchanged": 3, "managers": 0}
    assert again.errors == [] and again.note == ""


async def test_a_dry_run_reports_and_changes_nothing(database, tmp_path):
    await csv_import.import_csv(database, "HR", write(tmp_path, EXPORT))
    changed = EXPORT.replace("Designer", "Lead Designer").replace(
        "1003,", "1004,Chen Hao,hao@example.com,Intern,設計部,1003,新竹\n1003,")
    report = await csv_import.import_csv(database, "HR", write(tmp_path, changed, "changed.csv"), dry_run=True)
    assert report.dry_run and report.status == SyncStatus.SUCCEEDED
    assert report.counts["added"] == 1 and report.counts["updated"] == 1 and report.counts["unchanged"] == 2

    found = await people(database)
    assert "hao@example.com" not in found and found["lin@example.com"].title == "Designer"
    async with database.transaction() as db:
        kept = list(await db.scalars(select(DirectorySync).order_by(DirectorySync.id)))
        audited = await db.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "directory.dry_run"))
    assert [s.dry_run for s in kept] == [False]  # the dry run's report was not kept…
    assert audited == 1  # …but the audit log says it happened


async def test_broken_rows_are_reported_by_number_and_the_rest_go_in(database, tmp_path):
    text = (
        "external_id,display_name,email,phone\n"
        "1,Good One,one@example.com,+886 2 1234\n"
        "2,Too,Many,Cells,Here\n"
        ",No Id,noid@example.com,\n"
        "3,Bad Mail,not-an-address,\n"
        "4,Bad Phone,four@example.com,call me maybe\n"
        "\n"
        "1,Repeated,again@example.com,\n"
        "5,Also Good,five@example.com,\n"
    )
    report = await csv_import.import_csv(database, "HR", write(tmp_path, text))
    assert report.status == SyncStatus.SUCCEEDED
    by_row = {e.get("row") or int(e["entry"].removeprefix("row ")): e for e in report.errors}
    assert set(by_row) == {3, 4, 5, 6, 8}
    assert "cells" in by_row[3]["reason"] and by_row[4]["field"] == "external_id"
    assert by_row[5]["field"] == "email" and by_row[6]["field"] == "phone"
    assert "repeats row 2" in by_row[8]["reason"]
    found = await people(database)
    assert set(found) == {"one@example.com", "five@example.com"}
    assert found["one@example.com"].phone == "+886 2 1234"


async def test_a_file_that_is_not_utf8_fails_cleanly(database, tmp_path):
    await csv_import.import_csv(database, "HR", write(tmp_path, EXPORT))
    path = tmp_path / "big5.csv"
    path.write_bytes("external_id,name\n1,陳美玲\n".encode("big5"))
    report = await csv_import.import_csv(database, "HR", path)
    assert report.status == SyncStatus.FAILED and "UTF-8" in report.note
    assert report.counts.get("deactivated", 0) == 0
    assert all(p.deactivated_at is None for p in (await people(database)).values())

    missing = await csv_import.import_csv(database, "HR", tmp_path / "nowhere.csv")
    assert missing.status == SyncStatus.FAILED and "cannot read" in missing.note
    no_id = await csv_import.import_csv(database, "HR", write(tmp_path, "name,email\nA,a@example.com\n", "x.csv"))
    assert no_id.status == SyncStatus.FAILED and "external id column" in no_id.note


async def test_unknown_and_wrong_sources(database, tmp_path):
    assert await csv_import.import_csv(database, "nope", write(tmp_path, EXPORT)) is None
    async with database.transaction() as db:
        db.add(DirectorySource(name="LDAP", kind="ldap"))
    with pytest.raises(ValidationFailed):
        await csv_import.import_csv(database, "LDAP", write(tmp_path, EXPORT))


def test_columns_map_by_the_source_mapping():
    source = DirectorySource(name="x", kind="csv", mapping={"Full Name": "display_name", "Mail": "email"},
                             config={"external_id_column": "Staff No", "manager_column": "Boss"})
    records, rows = csv_import.read_rows(
        b"Staff No,Full Name,Mail,Boss,Ignored\nA7,Ada,ADA@example.com,B1,x\n", source)
    assert rows == {"A7": 2}
    assert records[0].values == {"display_name": "Ada", "email": "ada@example.com"}
    assert records[0].manager_external_id == "B1"
