"""Community files: uploading (checked, within the community's quota), versions, downloading, deleting.

A file is an item of kind `file` made through `content.service` (title: the latest version's name; body: the
description; `data.filename` is indexed for search). Each upload is a `file_version`. Every refusal — too big,
over quota, empty, a name with separators or control characters, content disguised under another name, HTML or
script, a zip bomb — is a `ValidationFailed` naming `file`, and nothing is stored: the checks run on the
temporary file before it is moved into the store and before a row is written.

Bytes no live version names — the file or its community deleted, an upload rolled back after its bytes were
stored, an upload cut off before it finished — are removed by `sweep_store` (the hourly `files_sweep` job).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from socius.admin import service as audit
from socius.communities import service as communities
from socius.communities.models import Community
from socius.config import Settings
from socius.content import service as content
from socius.content.models import Item, ItemKind
from socius.core.auth import Principal
from socius.core.db import one_of
from socius.core.errors import NotFound, PermissionDenied, ValidationFailed
from socius.core.i18n import N_
from socius.files import inspect, storage
from socius.files.models import FileVersion
from socius.files.upload import Received, too_big

log = structlog.get_logger(__name__)

KIND = ItemKind.FILE.value
MAX_LISTED = 1000
QUOTA_LOCK = 0x46494C45  # "FILE": with the community id, one advisory lock per community's quota
# One advisory lock on the store: an upload holds it shared from putting its bytes in the store until its
# transaction ends, the sweep exclusively while it decides and deletes. So the sweep never sees bytes whose
# version row is not committed yet (an upload of bytes already stored, which the sweep would take for garbage).
STORE_LOCK = 0x53544F52  # "STOR"
CAMPAIGN_QUOTA_LOCK = 0x41545443  # "ATTC": with the campaign id, one advisory lock per campaign's attachments
# Bytes and temporary files younger than this are never swept (defence in depth beside the lock: an upload's
# temporary file, a process that stored bytes but has not taken the lock yet).
SWEEP_GRACE_SECONDS = 3600.0
SWEEP_BATCH = 1000

content.ITEM_URLS[KIND] = lambda item: f"/communities/{item.community_id}/files/{item.id}" \
    if item.community_id is not None else f"/items/{item.parent_id}"  # an attachment is shown with its item


def size_label(size: int) -> str:
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= scale:
            value = size / scale
            return f"{value:.0f} {unit}" if value >= 10 or value == int(value) else f"{value:.1f} {unit}"
    return f"{size} B"


def download_url(item: Item, number: int | None = None) -> str:
    return f"/files/{item.id}/download" + (f"?version={number}" if number else "")


# --- reading ------------------------------------------------------------------------------------------------------

async def list_files(db: AsyncSession, principal: Principal, community_id: Any) -> tuple[Community, list[Item]]:
    community = await communities.get_content_community(db, principal, community_id)
    rows = await db.scalars(select(Item).where(Item.community_id == community.id, Item.kind == KIND,
                                               content.readable_clause(principal))
                            .order_by(Item.updated_at.desc(), Item.id.desc()).limit(MAX_LISTED))
    return community, list(rows)


async def get_file(db: AsyncSession, principal: Principal, item_id: Any) -> Item:
    """A file the principal may read; an attachment only while its item (an idea) is readable too, so hiding
    the idea hides its files."""
    item = await content.get_item(db, principal, item_id, kind=KIND)
    if item.parent_id is not None:
        await content.get_item(db, principal, item.parent_id)
    return item


async def versions(db: AsyncSession, principal: Principal, item_id: Any) -> list[FileVersion]:
    item = await get_file(db, principal, item_id)
    return list(await db.scalars(select(FileVersion).where(FileVersion.item_id == item.id)
                                 .order_by(FileVersion.number.desc())))


async def usage(db: AsyncSession, community_id: int) -> int:
    """Bytes the community's files take: every version of every file not deleted."""
    return await _used(db, Item.community_id == community_id)


async def _used(db: AsyncSession, place: Any) -> int:
    return int(await db.scalar(select(func.coalesce(func.sum(FileVersion.size), 0))
                               .join(Item, Item.id == FileVersion.item_id)
                               .where(place, Item.kind == KIND, Item.deleted_at.is_(None))))


@dataclass
class Download:
    item: Item
    version: FileVersion
    path: Path


async def download(db: AsyncSession, principal: Principal, item_id: Any, number: Any, settings: Settings
                   ) -> Download:
    """The bytes of a version (the latest without `number`), after checking — on every request — that the
    principal may read the file now."""
    item = await get_file(db, principal, item_id)
    statement = select(FileVersion).where(FileVersion.item_id == item.id)
    if number is None:
        statement = statement.order_by(FileVersion.number.desc()).limit(1)
    elif isinstance(number, int) and not isinstance(number, bool) and 0 < number < 2**31:
        statement = statement.where(FileVersion.number == number)
    else:
        raise NotFound()
    version = await db.scalar(statement)
    if version is None:
        raise NotFound()
    path = storage.path_of(settings.data_dir, version.storage_key)
    if not path.is_file():
        raise NotFound()
    return Download(item, version, path)


# --- uploading ----------------------------------------------------------------------------------------------------

async def upload_target(db: AsyncSession, principal: Principal, community_id: Any) -> Community:
    """Where a new file may go: checked before the body is read, so an outsider's upload is not received."""
    community = await communities.get_content_community(db, principal, community_id)
    await communities.require_contributor(db, principal, community)
    return community


async def version_target(db: AsyncSession, principal: Principal, item_id: Any) -> Item:
    item = await get_file(db, principal, item_id)
    if not await content.can_edit(db, principal, item):
        raise PermissionDenied()
    return item


def _check(received: Received, settings: Settings) -> tuple[str, inspect.Inspected]:
    if received.path is None:
        raise ValidationFailed.one(inspect.FIELD, N_("choose a file to upload"))
    name = inspect.clean_filename(received.filename)
    if received.size == 0:
        raise ValidationFailed.one(inspect.FIELD, N_("is empty"))
    if received.size > settings.file_max_bytes:
        raise too_big(settings.file_max_bytes)
    return name, inspect.inspect(received.path, received.head, name)


async def _within_quota(db: AsyncSession, community: Community | None, size: int, settings: Settings, *,
                        campaign_id: int | None = None) -> None:
    """A community's files, or a campaign's attachments, share one quota."""
    # Two uploads to one place at once wait for each other here, so together they cannot pass the quota.
    lock, place = (QUOTA_LOCK, Item.community_id == community.id) if community is not None else \
        (CAMPAIGN_QUOTA_LOCK, Item.campaign_id == campaign_id)
    await db.execute(select(func.pg_advisory_xact_lock(lock, ((community.id if community else campaign_id) % 2**31))))
    used = await _used(db, place)
    if used + size > settings.community_file_quota_bytes:
        full = N_("the community's file space is full ({used} of {quota} used)") if community is not None else \
            N_("the campaign's file space is full ({used} of {quota} used)")
        raise ValidationFailed.one(inspect.FIELD, full, used=size_label(used),
                                   quota=size_label(settings.community_file_quota_bytes))


def _data(name: str, received: Received, found: inspect.Inspected, number: int) -> dict[str, Any]:
    return {"filename": name, "size": received.size, "content_type": found.content_type, "version": number}


async def _store(db: AsyncSession, principal: Principal, item: Item, number: int, name: str, received: Received,
                 found: inspect.Inspected, settings: Settings) -> FileVersion:
    await db.execute(select(func.pg_advisory_xact_lock_shared(STORE_LOCK)))  # held until the version commits
    key = storage.keep(settings.data_dir, received.path, received.sha256)
    received.path = None  # the store has it now
    version = FileVersion(item_id=item.id, number=number, filename=name, content_type=found.content_type,
                          size=received.size, sha256=received.sha256, storage_key=key,
                          uploaded_by=principal.person_id)
    db.add(version)
    await db.flush()
    return version


async def add_file(db: AsyncSession, principal: Principal, community_id: Any, received: Received,
                   settings: Settings, *, description: Any = "", ip: str = "") -> tuple[Item, FileVersion]:
    """A new file (version 1) in a community the principal contributes to."""
    community = await upload_target(db, principal, community_id)
    name, found = _check(received, settings)
    cleaned = content.clean_fields({"title": name, "body": description or ""}, title_required=True)
    await _within_quota(db, community, received.size, settings)
    item = await content.create_item(db, principal, kind=KIND, community=community,
                                     values={"title": cleaned["title"], "body": cleaned["body"]},
                                     data=_data(name, received, found, 1), verb="upload", ip=ip)
    return item, await _store(db, principal, item, 1, name, received, found, settings)


async def add_attachment(db: AsyncSession, principal: Principal, parent: Item, received: Received,
                         settings: Settings, *, ip: str = "") -> tuple[Item, FileVersion]:
    """A file attached to an item of a campaign (an idea), read by whoever reads it. The caller has checked that
    the principal may change `parent`; a campaign's attachments share one quota as a community's files do."""
    name, found = _check(received, settings)
    await _within_quota(db, None, received.size, settings, campaign_id=parent.campaign_id)
    item = await content.create_item(db, principal, kind=KIND, community=None, campaign_id=parent.campaign_id,
                                     parent=parent, values={"title": name, "body": ""},
                                     data=_data(name, received, found, 1), verb="upload", ip=ip)
    return item, await _store(db, principal, item, 1, name, received, found, settings)


async def attachments(db: AsyncSession, principal: Principal, parent: Item) -> list[Item]:
    """The files attached to an item the principal reads."""
    return list(await db.scalars(select(Item).where(Item.parent_id == parent.id, Item.kind == KIND,
                                                    content.readable_clause(principal)).order_by(Item.id)))


async def add_version(db: AsyncSession, principal: Principal, item_id: Any, received: Received,
                      settings: Settings, *, ip: str = "") -> tuple[Item, FileVersion]:
    """A new version of a file, by its uploader or the community's moderators."""
    item = await version_target(db, principal, item_id)
    community = await communities.get_content_community(db, principal, item.community_id)
    await communities.require_contributor(db, principal, community)
    name, found = _check(received, settings)
    await _within_quota(db, community, received.size, settings)
    number = (await db.scalar(select(func.coalesce(func.max(FileVersion.number), 0))
                              .where(FileVersion.item_id == item.id))) + 1
    item = await content.edit_item(db, principal, item, {"title": name}, expected_version=item.version, ip=ip)
    item.data = _data(name, received, found, number)
    version = await _store(db, principal, item, number, name, received, found, settings)
    await content.record_activity(db, principal.person_id, "upload", item)
    return item, version


async def delete_file(db: AsyncSession, principal: Principal, item_id: Any, *, ip: str = "") -> None:
    """Soft delete (through content.service): gone from every page and search, its bytes no longer count
    against the quota."""
    item = await get_file(db, principal, item_id)
    await content.delete_item(db, principal, item, ip=ip)


# --- sweeping the store -----------------------------------------------------------------------------------------

@dataclass
class Swept:
    blobs: int = 0
    bytes: int = 0
    temporary: int = 0


async def sweep_store(transaction: Callable[[], AbstractAsyncContextManager[AsyncSession]], settings: Settings, *,
                      grace_seconds: float = SWEEP_GRACE_SECONDS) -> Swept:
    """Delete the stored bytes that no version of a live file names (files deleted, their community deleted,
    uploads rolled back) and temporary files of uploads that never finished, when older than `grace_seconds`.
    In batches, each decided and deleted under the store's lock in a transaction of its own, with an audit entry."""
    older_than = time.time() - grace_seconds
    candidates = await asyncio.to_thread(lambda: list(storage.stored(settings.data_dir, older_than=older_than)))
    swept = Swept()
    for start in range(0, len(candidates), SWEEP_BATCH):
        batch = candidates[start:start + SWEEP_BATCH]
        async with transaction() as db:
            await db.execute(select(func.pg_advisory_xact_lock(STORE_LOCK)))
            live = set(await db.scalars(
                select(FileVersion.sha256).distinct().join(Item, Item.id == FileVersion.item_id)
                .where(one_of(FileVersion.sha256, [b.sha256 for b in batch]), Item.deleted_at.is_(None))))
            unreferenced = [b for b in batch if b.sha256 not in live]
            removed = await asyncio.to_thread(_remove_all, unreferenced, older_than)
            if removed:
                await audit.record(db, None, "files.sweep", "file_store", "blobs",
                                   new={"removed": [b.sha256 for b in removed],
                                        "bytes": sum(b.size for b in removed)})
        swept.blobs += len(removed)
        swept.bytes += sum(b.size for b in removed)
    swept.temporary = await asyncio.to_thread(storage.remove_stale_temporary, settings.data_dir,
                                              older_than=older_than)
    log.info("files_swept", blobs=swept.blobs, bytes=swept.bytes, temporary=swept.temporary,
             candidates=len(candidates))
    return swept


def _remove_all(blobs: list[storage.Stored], older_than: float) -> list[storage.Stored]:
    return [b for b in blobs if storage.remove(b, older_than=older_than)]
