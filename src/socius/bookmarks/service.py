"""A community's bookmarks: links people share (items of kind `bookmark`, the address in `data.url`), with a
title, a description, tags and comments.

The server never fetches a bookmarked address: it only checks its form. Only http and https addresses with a
host are accepted — no `javascript:`, `data:` or other schemes, no user name or password in the address, no
control characters or spaces, at most 2,000 characters. The same address twice in one community is refused
(`DuplicateBookmark`, a Conflict that names the bookmark already there).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from socius.communities import service as communities
from socius.content import apps
from socius.content import service as content
from socius.content.models import Item, ItemKind
from socius.core.auth import Principal
from socius.core.errors import Conflict, ValidationFailed
from socius.core.i18n import N_, ngettext
from socius.expertise import finder

BOOKMARK = ItemKind.BOOKMARK.value
MAX_URL = 2000
REL = "noopener noreferrer nofollow ugc"
_UNSAFE = re.compile(r"[\x00-\x20\x7f-\x9f\\<>\"`{}|^]")

content.ITEM_URLS[BOOKMARK] = lambda item: f"/communities/{item.community_id}/bookmarks/{item.id}"


class DuplicateBookmark(Conflict):
    message = N_("This address is already bookmarked here.")

    def __init__(self, existing: Item) -> None:
        super().__init__()
        self.existing = existing

    def to_json(self) -> dict[str, Any]:
        body = super().to_json()
        body["error"]["existing"] = {"id": self.existing.id, "url": content.item_url(self.existing),
                                     "title": self.existing.title}
        return body


def clean_url(value: Any) -> str:
    """The address as stored (scheme and host in lower case), or ValidationFailed naming `url` and why."""
    def fail(reason: str, **params: Any) -> ValidationFailed:
        return ValidationFailed.one("url", reason, **params)

    if not isinstance(value, str) or not value.strip():
        raise fail(N_("must not be empty"))
    value = value.strip()
    if len(value) > MAX_URL:
        raise fail(N_("must be at most {max} characters"), max=MAX_URL)
    if _UNSAFE.search(value):
        raise fail(N_("must not contain spaces, control characters or characters such as < > \" \\"))
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise fail(N_("is not a valid web address")) from None
    if parts.scheme.lower() not in ("http", "https"):
        raise fail(N_("must start with http:// or https://"))
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise fail(N_("must not contain a user name or password"))
    host = (parts.hostname or "").lower()
    if not host or not re.fullmatch(r"[\w.\-\[\]:]+", host):
        raise fail(N_("is not a valid web address"))
    netloc = host if port is None else f"{host}:{port}"
    if ":" in host and not host.startswith("["):
        netloc = f"[{host}]" + (f":{port}" if port is not None else "")
    return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", parts.query, parts.fragment))


def _item_values(values: dict[str, Any], url: str | None) -> dict[str, Any]:
    """Title, description (the body) and tags as `content.service` names them; no title: the address."""
    cleaned = {k: values[k] for k in ("title", "tags") if k in values}
    if "description" in values:
        cleaned["body"] = values["description"] if values["description"] is not None else ""
    if url is not None and "title" in cleaned and isinstance(cleaned["title"], str) and not cleaned["title"].strip():
        cleaned["title"] = url[: content.MAX_TITLE]
    return cleaned


def _as_description(error: ValidationFailed) -> ValidationFailed:
    """A bookmark's text is its description: errors about the body name that field."""
    for e in error.errors:
        if e.field == "body":
            e.field = "description"
    return error


async def _refuse_duplicate(db: AsyncSession, community_id: int, url: str, *, other_than: int | None = None) -> None:
    """Serialise additions of one address to one community (a transaction-scoped lock), then look for it."""
    await db.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 7))"),
                     {"key": f"bookmark:{community_id}:{url}"})
    statement = select(Item).where(Item.community_id == community_id, Item.kind == BOOKMARK,
                                   Item.deleted_at.is_(None), Item.data["url"].astext == url)
    if other_than is not None:
        statement = statement.where(Item.id != other_than)
    existing = await db.scalar(statement.order_by(Item.id).limit(1))
    if existing is not None:
        raise DuplicateBookmark(existing)


async def bookmarks(db: AsyncSession, principal: Principal, community_id: Any, *, tag: Any = "",
                    limit: Any = apps.PAGE_SIZE, offset: Any = 0) -> apps.Listing:
    return await apps.list_kind(db, principal, community_id, BOOKMARK, tag=tag, limit=limit, offset=offset)


async def create_bookmark(db: AsyncSession, principal: Principal, community_id: Any, values: dict[str, Any], *,
                          ip: str = "") -> Item:
    community = await communities.get_community(db, principal, community_id)
    await communities.require_contributor(db, principal, community)  # before saying what is bookmarked there
    url = clean_url(values.get("url"))
    item_values = _item_values({"title": "", "description": "", **values}, url)
    try:
        content.clean_fields(item_values, title_required=True)  # every field's error at once, before the lock
    except ValidationFailed as error:
        raise _as_description(error) from None
    await _refuse_duplicate(db, community.id, url)
    return await content.create_item(db, principal, kind=BOOKMARK, community=community, values=item_values,
                                     data={"url": url}, ip=ip)


async def get_bookmark(db: AsyncSession, principal: Principal, bookmark_id: Any) -> Item:
    return await content.get_item(db, principal, bookmark_id, kind=BOOKMARK)


async def edit_bookmark(db: AsyncSession, principal: Principal, bookmark_id: Any, values: dict[str, Any], *,
                        expected_version: Any, ip: str = "") -> Item:
    bookmark = await get_bookmark(db, principal, bookmark_id)
    url = clean_url(values["url"]) if "url" in values else None
    if url is not None and url != bookmark.data.get("url") and await content.can_edit(db, principal, bookmark):
        await _refuse_duplicate(db, bookmark.community_id, url, other_than=bookmark.id)
    try:
        bookmark = await content.edit_item(db, principal, bookmark, _item_values(values, url or bookmark.data["url"]),
                                           expected_version=apps.expected_version(expected_version), ip=ip)
    except ValidationFailed as error:
        raise _as_description(error) from None
    if url is not None and url != bookmark.data.get("url"):
        bookmark.data = {**bookmark.data, "url": url}
        await db.flush()
    return bookmark


async def delete_bookmark(db: AsyncSession, principal: Principal, bookmark_id: Any, *, ip: str = "") -> None:
    await content.delete_item(db, principal, await get_bookmark(db, principal, bookmark_id), ip=ip)


# Evidence lines are plural messages, translated where the finder shows them; this names the pair for extraction.
_EXTRACT = lambda n: ngettext("bookmarked %(num)d page on it", "bookmarked %(num)d pages on it", n)  # noqa: E731

# Sharing a link says little about knowing the subject: it counts, but least.
finder.register_evidence(finder.EvidenceKind(
    BOOKMARK, "bookmarked %(num)d page on it", "bookmarked %(num)d pages on it", weight=0.3))
