"""The wiki: pages in a tree per community, every save kept as a revision, diffs, restoring, moving.

A page is an item of kind `page` made and edited through `content.service` (access, conflicts, mentions,
#tags, audit); this module adds the tree (`wiki_page`) and the history (`wiki_revision`). Any member of the
community may edit any page (`content.service.can_edit`). An edit names the version it started from: when
someone saved in between, `Conflict` is raised and nothing is written.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from socius.admin import service as audit
from socius.communities import service as communities
from socius.communities.models import Community
from socius.content import service as content
from socius.content.models import Item, ItemKind
from socius.core import text as textkit
from socius.core.auth import Principal
from socius.core.errors import NotFound, PermissionDenied, ValidationFailed
from socius.core.i18n import N_
from socius.wiki.models import WikiPage, WikiRevision

KIND = ItemKind.PAGE.value
MAX_PAGES = 5000        # pages listed in one community's tree
MAX_DEPTH = 50          # a tree deeper than this is refused (and walking it stops)
MAX_COMMENT = 300
MAX_SLUG = 80
RESERVED_SLUGS = {"new"}
DIFF_CONTEXT = 3


def page_url(community_id: int, slug: str) -> str:
    return f"/communities/{community_id}/wiki/{quote(slug, safe='')}"


content.ITEM_URLS[KIND] = lambda item: page_url(item.community_id, item.data.get("slug", str(item.id)))


@dataclass
class Page:
    item: Item
    page: WikiPage

    @property
    def id(self) -> int:
        return self.item.id

    @property
    def url(self) -> str:
        return page_url(self.page.community_id, self.page.slug)


@dataclass
class TreeNode:
    item: Item
    page: WikiPage
    children: list[TreeNode] = field(default_factory=list)
    depth: int = 0  # set when the tree is flattened for a list of choices

    @property
    def url(self) -> str:
        return page_url(self.page.community_id, self.page.slug)


# --- reading ------------------------------------------------------------------------------------------------------

async def readable_community(db: AsyncSession, principal: Principal, community_id: Any) -> Community:
    return await communities.get_content_community(db, principal, community_id)


def _pages(principal: Principal):
    return select(Item, WikiPage).join(WikiPage, WikiPage.item_id == Item.id).where(
        Item.kind == KIND, content.readable_clause(principal))


async def get_page(db: AsyncSession, principal: Principal, page_id: Any) -> Page:
    if not communities.is_id(page_id):
        raise NotFound()
    row = (await db.execute(_pages(principal).where(Item.id == page_id))).first()
    if row is None:
        raise NotFound()
    return Page(*row)


async def page_by_slug(db: AsyncSession, principal: Principal, community_id: Any, slug: str) -> Page:
    if not communities.is_id(community_id) or not isinstance(slug, str) or len(slug) > 200:
        raise NotFound()
    row = (await db.execute(_pages(principal).where(WikiPage.community_id == community_id,
                                                    WikiPage.slug == slug))).first()
    if row is None:
        raise NotFound()
    return Page(*row)


async def tree(db: AsyncSession, principal: Principal, community: Community) -> list[TreeNode]:
    """The community's readable pages as a tree, each level by position then title. A page whose parent is
    gone (deleted, hidden) shows at the top level."""
    rows = (await db.execute(_pages(principal).where(WikiPage.community_id == community.id)
                             .order_by(WikiPage.position, Item.title, Item.id).limit(MAX_PAGES))).all()
    nodes = {item.id: TreeNode(item, page) for item, page in rows}
    roots: list[TreeNode] = []
    for node in nodes.values():
        parent = nodes.get(node.page.parent_page_id) if node.page.parent_page_id else None
        (parent.children if parent is not None else roots).append(node)
    return roots


def home(roots: list[TreeNode]) -> TreeNode | None:
    """The wiki's home page: the first top-level page."""
    return roots[0] if roots else None


async def ancestors(db: AsyncSession, principal: Principal, page: WikiPage) -> list[Page]:
    """The pages above this one, top first (breadcrumbs)."""
    found: list[Page] = []
    seen = {page.item_id}
    parent_id = page.parent_page_id
    while parent_id is not None and parent_id not in seen and len(found) < MAX_DEPTH:
        seen.add(parent_id)
        try:
            parent = await get_page(db, principal, parent_id)
        except NotFound:
            break
        found.append(parent)
        parent_id = parent.page.parent_page_id
    return list(reversed(found))


async def children(db: AsyncSession, principal: Principal, page: WikiPage) -> list[Page]:
    rows = await db.execute(_pages(principal).where(WikiPage.parent_page_id == page.item_id)
                            .order_by(WikiPage.position, Item.title, Item.id).limit(MAX_PAGES))
    return [Page(*row) for row in rows.all()]


# --- revisions ----------------------------------------------------------------------------------------------------

async def revisions(db: AsyncSession, principal: Principal, page_id: Any, *, limit: int = 500
                    ) -> list[WikiRevision]:
    page = await get_page(db, principal, page_id)
    return list(await db.scalars(select(WikiRevision).where(WikiRevision.item_id == page.id)
                                 .order_by(WikiRevision.number.desc()).limit(limit)))


async def revision(db: AsyncSession, principal: Principal, page_id: Any, number: Any) -> WikiRevision:
    page = await get_page(db, principal, page_id)
    if not isinstance(number, int) or isinstance(number, bool) or not 0 < number < 2**31:
        raise NotFound()
    found = await db.scalar(select(WikiRevision).where(WikiRevision.item_id == page.id,
                                                       WikiRevision.number == number))
    if found is None:
        raise NotFound()
    return found


async def _keep_revision(db: AsyncSession, principal: Principal, item: Item, comment: str,
                         restored_from: int | None = None) -> WikiRevision:
    # The item's row was just written (created, or updated against its version), so whoever saves next waits
    # for this transaction: the next number cannot be taken twice.
    number = (await db.scalar(select(func.coalesce(func.max(WikiRevision.number), 0))
                              .where(WikiRevision.item_id == item.id))) + 1
    row = WikiRevision(item_id=item.id, number=number, title=item.title, body_md=item.body_md,
                       author_id=principal.person_id, comment=comment, restored_from=restored_from)
    db.add(row)
    await db.flush()
    return row


@dataclass
class DiffLine:
    op: str    # "hunk" | "same" | "added" | "removed"
    text: str


@dataclass
class Diff:
    old: WikiRevision
    new: WikiRevision
    title_changed: bool
    lines: list[DiffLine]

    @property
    def changed(self) -> bool:
        return self.title_changed or any(line.op in ("added", "removed") for line in self.lines)


def diff_lines(old: str, new: str, context: int = DIFF_CONTEXT) -> list[DiffLine]:
    """A unified line diff as data; the template escapes the text (it is never trusted HTML)."""
    lines: list[DiffLine] = []
    ops = {" ": "same", "+": "added", "-": "removed"}
    for raw in difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=context):
        if raw.startswith(("---", "+++")) and not lines:
            continue
        if raw.startswith("@@"):
            lines.append(DiffLine("hunk", raw))
        else:
            lines.append(DiffLine(ops.get(raw[:1], "same"), raw[1:]))
    return lines


async def diff(db: AsyncSession, principal: Principal, page_id: Any, old_number: Any, new_number: Any) -> Diff:
    old = await revision(db, principal, page_id, old_number)
    new = await revision(db, principal, page_id, new_number)
    return Diff(old, new, old.title != new.title, diff_lines(old.body_md, new.body_md))


# --- changing -----------------------------------------------------------------------------------------------------

def _clean_comment(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or textkit.has_control_chars(value):
        raise ValidationFailed.one("comment", N_("must be text without control characters"))
    if len(value.strip()) > MAX_COMMENT:
        raise ValidationFailed.one("comment", N_("must be at most {max} characters"), max=MAX_COMMENT)
    return " ".join(value.split())


def slug_for(title: str) -> str:
    """A readable slug: letters and digits of any script kept (Chinese titles stay Chinese), the rest dashes."""
    folded = unicodedata.normalize("NFKC", title).lower()
    slug = re.sub(r"[^\w]+", "-", folded).strip("-_")[:MAX_SLUG].strip("-_")
    return slug or "page"


async def _free_slug(db: AsyncSession, community_id: int, title: str) -> str:
    base = slug_for(title)
    taken = set(await db.scalars(select(WikiPage.slug).where(WikiPage.community_id == community_id,
                                                             WikiPage.slug.startswith(base, autoescape=True))))
    taken |= RESERVED_SLUGS
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


async def _parent_in(db: AsyncSession, principal: Principal, community: Community, parent_id: Any) -> Page | None:
    if parent_id in (None, ""):
        return None
    if isinstance(parent_id, str) and parent_id.isdigit():
        parent_id = int(parent_id)
    try:
        parent = await get_page(db, principal, parent_id)
    except NotFound:
        raise ValidationFailed.one("parent_id", N_("is not a page of this wiki")) from None
    if parent.page.community_id != community.id:
        raise ValidationFailed.one("parent_id", N_("is not a page of this wiki"))
    return parent


async def _next_position(db: AsyncSession, community_id: int, parent_id: int | None) -> int:
    where = WikiPage.parent_page_id.is_(None) if parent_id is None else WikiPage.parent_page_id == parent_id
    return (await db.scalar(select(func.coalesce(func.max(WikiPage.position), -1))
                            .where(WikiPage.community_id == community_id, where))) + 1


async def create_page(db: AsyncSession, principal: Principal, community_id: Any, values: dict[str, Any], *,
                      ip: str = "") -> Page:
    """A new page (revision 1) by a member, under `values["parent_id"]` or at the top."""
    community = await readable_community(db, principal, community_id)
    await communities.require_contributor(db, principal, community)
    parent = await _parent_in(db, principal, community, values.get("parent_id"))
    comment = _clean_comment(values.get("comment"))
    cleaned = content.clean_fields({"title": values.get("title"), "body": values.get("body", "")},
                                   title_required=True)
    slug = await _free_slug(db, community.id, cleaned["title"])
    item = await content.create_item(db, principal, kind=KIND, community=community,
                                     values={"title": cleaned["title"], "body": cleaned["body"],
                                             **({"tags": values["tags"]} if "tags" in values else {})},
                                     data={"slug": slug}, ip=ip)
    parent_id = parent.id if parent else None
    page = WikiPage(item_id=item.id, community_id=community.id, parent_page_id=parent_id, slug=slug,
                    position=await _next_position(db, community.id, parent_id))
    db.add(page)
    await db.flush()
    await _keep_revision(db, principal, item, comment)
    return Page(item, page)


async def edit_page(db: AsyncSession, principal: Principal, page_id: Any, values: dict[str, Any], *,
                    expected_version: Any, ip: str = "", restored_from: int | None = None
                    ) -> tuple[Page, WikiRevision]:
    """Save a new revision of the title and text. Conflict when the page changed since `expected_version`."""
    page = await get_page(db, principal, page_id)
    comment = _clean_comment(values.get("comment"))
    changes = {k: values[k] for k in ("title", "body", "tags") if k in values}
    item = await content.edit_item(db, principal, page.item, changes, expected_version=expected_version, ip=ip)
    return Page(item, page.page), await _keep_revision(db, principal, item, comment, restored_from)


async def restore(db: AsyncSession, principal: Principal, page_id: Any, number: Any, *, expected_version: Any,
                  ip: str = "") -> tuple[Page, WikiRevision]:
    """Bring back an old revision's title and text, as a new revision (the history keeps everything)."""
    old = await revision(db, principal, page_id, number)
    return await edit_page(db, principal, page_id, {"title": old.title, "body": old.body_md},
                           expected_version=expected_version, ip=ip, restored_from=old.number)


async def move(db: AsyncSession, principal: Principal, page_id: Any, parent_id: Any, *, ip: str = "") -> Page:
    """Put a page under another page of its wiki (or at the top). A page cannot go under itself or anything
    below it."""
    page = await get_page(db, principal, page_id)
    if not await content.can_edit(db, principal, page.item):
        raise PermissionDenied()
    community = await readable_community(db, principal, page.page.community_id)
    parent = await _parent_in(db, principal, community, parent_id)
    new_parent = parent.id if parent else None
    if parent is not None:
        # Walk up from the new parent: meeting the page itself would make a cycle.
        current: int | None = parent.id
        depth = 0
        while current is not None:
            if current == page.id:
                raise ValidationFailed.one("parent_id", N_("must not be the page itself or a page below it"))
            depth += 1
            if depth > MAX_DEPTH:
                raise ValidationFailed.one("parent_id", N_("is nested too deeply"))
            current = await db.scalar(select(WikiPage.parent_page_id).where(WikiPage.item_id == current))
    old = page.page.parent_page_id
    if old != new_parent:
        page.page.parent_page_id = new_parent
        page.page.position = await _next_position(db, community.id, new_parent)
        await db.flush()
        await audit.record(db, principal, "page.move", "item", page.id, old={"parent_id": old},
                           new={"parent_id": new_parent}, ip=ip)
    return page
