"""Wiki pages and their revisions. A page is an item of kind `page` (its title and text are the latest
revision); this table places it in its community's page tree."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint, func, text
from sqlalchemy.orm import Mapped, mapped_column

from socius.core.db import Base


class WikiPage(Base):
    __tablename__ = "wiki_page"

    item_id: Mapped[int] = mapped_column(ForeignKey("item.id", ondelete="CASCADE"), primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id", ondelete="CASCADE"))
    # The page this one sits under; none for a top-level page.
    parent_page_id: Mapped[int | None] = mapped_column(ForeignKey("wiki_page.item_id", ondelete="SET NULL"))
    # Fixed when the page is made, so links to it keep working when its title changes.
    slug: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(Integer, server_default=text("0"))

    __table_args__ = (
        UniqueConstraint("community_id", "slug", name="uq_wiki_page_slug"),
        Index("ix_wiki_page_tree", "community_id", "parent_page_id", "position"),
    )


class WikiRevision(Base):
    """One save of a page: its title and text as they were, who saved it and why."""

    __tablename__ = "wiki_revision"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    body_md: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    comment: Mapped[str] = mapped_column(String(300), server_default="")
    # Set when this revision brought back an older one's text.
    restored_from: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (UniqueConstraint("item_id", "number", name="uq_wiki_revision_number"),)
