"""Items: one table for every kind of content, with likes and reports.

An item belongs to a community, to a campaign of the idea portal (an idea and its comments), or, for a status
update on someone's profile, to neither; it is read by whoever may read that place. Apps keep what only they
need in tables of their own (a wiki page's revisions, a file's versions, an idea's stage and votes) or in `data`."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, Text, func, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from socius.core.db import Base


class ItemKind(enum.StrEnum):
    STATUS = "status"      # a status update (profile or community)
    TOPIC = "topic"        # a forum topic; data.question marks a question
    ENTRY = "entry"        # a blog entry
    PAGE = "page"          # a wiki page (its text is the latest revision)
    FILE = "file"          # an uploaded file (its bytes are the latest version)
    BOOKMARK = "bookmark"  # data.url
    COMMENT = "comment"    # a comment on any item (parent_id)
    REPLY = "reply"        # a reply to a forum topic (parent_id): an answer, when the topic is a question
    IDEA = "idea"          # an idea in a campaign (`ideas.models.Idea` holds its stage and votes)


class Item(Base):
    __tablename__ = "item"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("community.id", ondelete="CASCADE"))
    # An idea, or a comment on one, lives in a campaign instead: readable by whoever may read the campaign.
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    # A comment's item; a wiki page's parent page lives in the wiki's own table.
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("item.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(300), server_default="")
    body_md: Mapped[str] = mapped_column(Text, server_default="")
    body_html: Mapped[str] = mapped_column(Text, server_default="")  # rendered and sanitised once, on save
    tags: Mapped[list[str]] = mapped_column(ARRAY(String(50)), server_default=text("'{}'"))
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'"))
    # A question's accepted answer (one of its comments).
    accepted_id: Mapped[int | None] = mapped_column(ForeignKey("item.id", ondelete="SET NULL"))
    like_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    comment_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    # Bumped on every edit: an edit made against an older version is a conflict, never a silent overwrite.
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    # Its newest activity: when it or its newest comment or reply not deleted was posted (kept by
    # content.service on each comment and delete), so lists "by latest activity" read an index, not every reply.
    last_activity_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    # Hidden by a moderator: only moderators see it (marked), nobody finds it; restoring brings it back.
    hidden_at: Mapped[dt.datetime | None]
    hidden_by: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    deleted_at: Mapped[dt.datetime | None]

    __table_args__ = (
        CheckConstraint(
            "kind IN ('status', 'topic', 'entry', 'page', 'file', 'bookmark', 'comment', 'reply', 'idea')",
            name="kind_known"),
        Index("ix_item_community", "community_id", "kind", text("id DESC")),
        Index("ix_item_community_activity", "community_id", "kind", text("last_activity_at DESC"), text("id DESC")),
        Index("ix_item_parent", "parent_id", "id"),
        Index("ix_item_author", "author_id", text("id DESC")),
        Index("ix_item_campaign", "campaign_id", "kind", text("id DESC"),
              postgresql_where=text("campaign_id IS NOT NULL")),
        # "Most discussed": a campaign's ideas by their number of comments.
        Index("ix_item_idea_discussed", "campaign_id", text("comment_count DESC"), text("id DESC"),
              postgresql_where=text("kind = 'idea'")),
        # For the foreign key: deleting items (a community's, by cascade) finds the questions that accepted them.
        Index("ix_item_accepted", "accepted_id", postgresql_where=text("accepted_id IS NOT NULL")),
        # A person's campaigns as an author, for their search document (ideas.search's PERSON_KEYS).
        Index("ix_item_campaign_author", "author_id", "campaign_id", postgresql_where=text("campaign_id IS NOT NULL")),
    )


class ItemLike(Base):
    __tablename__ = "item_like"

    item_id: Mapped[int] = mapped_column(ForeignKey("item.id", ondelete="CASCADE"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())


class Report(Base):
    """Someone reporting an item to its community's moderators."""

    __tablename__ = "content_report"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id", ondelete="CASCADE"), index=True)
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    resolved_at: Mapped[dt.datetime | None]
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    outcome: Mapped[str | None] = mapped_column(String(16))  # hidden | dismissed

    __table_args__ = (Index("ix_content_report_open", "id", postgresql_where=text("resolved_at IS NULL")),)
