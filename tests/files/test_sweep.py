"""The sweep of the file store: bytes no live file names go (file deleted, community deleted, upload rolled back,
upload cut off), bytes a live file shares stay, recent bytes stay, and an upload in flight is never swept from
under its own commit."""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
from pathlib import Path

from sqlalchemy import select, text

from socius.admin.models import AuditEntry
from socius.communities import service as communities
from socius.core.auth import Principal
from socius.core.db import Database
from socius.files import service, storage
from socius.files.upload import Received
from socius.people import service as people
from socius.people.models import Role
from tests.files.conftest import stored
from tests.files.test_files import png

TWO_HOURS = 7200


def age(path: Path, seconds: float = TWO_HOURS) -> None:
    """Make a file look written `seconds` ago."""
    then = time.time() - seconds
    os.utime(path, (then, then))


def blob(data_dir: Path, data: bytes) -> Path:
    return storage.root(data_dir) / storage.key_for(hashlib.sha256(data).hexdigest())


def put(data_dir: Path, data: bytes) -> Path:
    """Bytes in the store with no row naming them (an upload whose transaction rolled back)."""
    temp = storage.temp_dir(data_dir)
    temp.mkdir(parents=True, exist_ok=True)
    (temp / "upload-x").write_bytes(data)
    storage.keep(data_dir, temp / "upload-x", hashlib.sha256(data).hexdigest())
    return blob(data_dir, data)


async def test_bytes_no_live_file_names_are_swept_and_shared_or_recent_bytes_stay(files_app, bearer, db, member,
                                                                                   team, tmp_path,
                                                                                   in_test_transaction):
    community, _owner = team
    settings = files_app.state.settings
    api = await bearer(files_app, member)

    async def upload(name: str, data: bytes) -> int:
        made = await api.post(f"/api/v1/communities/{community.id}/files", files={"file": (name, data)})
        assert made.status_code == 201, made.text
        return made.json()["id"]

    shared, kept_copy, alone = png(2, 2), png(2, 2), b"only in the deleted file\n"
    deleted_shared = await upload("logo.png", shared)
    keeps_it = await upload("logo-copy.png", kept_copy)  # the same bytes: stored once
    deleted_alone = await upload("notes.txt", alone)
    for item_id in (deleted_shared, deleted_alone):
        assert (await api.delete(f"/api/v1/files/{item_id}")).status_code == 204
    rolled_back, recent = put(tmp_path, b"rolled back\n"), put(tmp_path, b"stored a minute ago\n")
    temp = storage.temp_dir(tmp_path)
    (temp / "upload-cut-off").write_bytes(b"half an upl")
    (temp / "upload-in-progress").write_bytes(b"still arriving")
    for path in (blob(tmp_path, shared), blob(tmp_path, alone), rolled_back, temp / "upload-cut-off"):
        age(path)

    swept = await service.sweep_store(in_test_transaction, settings)

    assert (swept.blobs, swept.temporary) == (2, 1)
    assert swept.bytes == len(alone) + len(b"rolled back\n")
    assert stored(tmp_path) == sorted([blob(tmp_path, shared), recent, temp / "upload-in-progress"])
    got = await api.get(f"/api/v1/files/{keeps_it}/download")
    assert got.status_code == 200 and got.content == kept_copy
    [entry] = (await db.scalars(select(AuditEntry).where(AuditEntry.action == "files.sweep"))).all()
    assert sorted(entry.new["removed"]) == sorted(hashlib.sha256(d).hexdigest() for d in (alone, b"rolled back\n"))
    assert entry.actor_id is None

    # Nothing more to do; then the last file with the shared bytes goes, and so do they.
    assert (await service.sweep_store(in_test_transaction, settings)).blobs == 0
    assert (await api.delete(f"/api/v1/files/{keeps_it}")).status_code == 204
    assert (await service.sweep_store(in_test_transaction, settings)).blobs == 1
    assert not blob(tmp_path, shared).exists()
    await api.aclose()


async def test_the_bytes_of_a_deleted_community_are_swept(files_app, bearer, db, member, team, tmp_path,
                                                          in_test_transaction):
    community, _owner = team
    api = await bearer(files_app, member)
    made = await api.post(f"/api/v1/communities/{community.id}/files", files={"file": ("a.txt", b"team notes\n")})
    assert made.status_code == 201, made.text
    age(blob(tmp_path, b"team notes\n"))
    assert (await service.sweep_store(in_test_transaction, files_app.state.settings)).blobs == 0  # still live

    await db.execute(text("DELETE FROM community WHERE id = :id"), {"id": community.id})  # rows cascade
    assert (await service.sweep_store(in_test_transaction, files_app.state.settings)).blobs == 1
    assert stored(tmp_path) == []
    await api.aclose()


def _received(data_dir: Path, name: str, data: bytes) -> Received:
    temp = storage.temp_dir(data_dir)
    temp.mkdir(parents=True, exist_ok=True)
    path = temp / f"upload-{name}"
    path.write_bytes(data)
    return Received(path=path, filename=name, size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                    head=data[:4096])


async def test_an_upload_in_flight_is_not_swept_from_under_its_commit(scratch_database, settings, tmp_path):
    """Bytes already in the store, unreferenced and old; an upload of the same bytes has stored them and written
    its row but not committed. The sweep (listing them as garbage) waits for that commit, then keeps them."""
    settings = settings.model_copy(update={"data_dir": tmp_path})
    database = Database(scratch_database, pool_size=3)
    try:
        async with database.transaction() as db:
            person = await people.create_person(db, None, display_name="Uploader", role=Role.MEMBER,
                                                email="up@example.com")
            principal = Principal(person_id=person.id, role=Role.MEMBER, display_name="Uploader", via="session")
            community = await communities.create(db, principal, {"name": "Open", "access": "public"})
        data = png(3, 3)
        age(put(tmp_path, data))  # left by an earlier, rolled-back upload

        async with database.transaction() as db:
            item, _version = await service.add_file(db, principal, community.id, _received(tmp_path, "a.png", data),
                                                    settings)
            sweeping = asyncio.create_task(service.sweep_store(database.transaction, settings, grace_seconds=0))
            await asyncio.sleep(0.5)
            assert not sweeping.done()  # waiting for the upload's transaction
            assert blob(tmp_path, data).exists()
        swept = await asyncio.wait_for(sweeping, 10)

        assert swept.blobs == 0 and blob(tmp_path, data).exists()
        async with database.transaction() as db:
            download = await service.download(db, principal, item.id, None, settings)
            assert download.path.read_bytes() == data
    finally:
        await database.dispose()
