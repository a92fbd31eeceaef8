"""What happened (activities), what it was about (activity tags), and who follows what."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, func, text
from sqlalchemy.orm import Mapped, mapped_column

from socius.core.db import Base


class Activity(Base):
    """One event in the stream: someone posted, commented, liked, joined… The feed reads these newest first;
    what it shows is the item (or community) it points at, checked against what the reader may read."""

    __tablename__ = "activity"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    verb: Mapped[str] = mapped_column(String(16))  # post | comment | like | join | create | update | answer
    item_id: Mapped[int | None] = mapped_column(ForeignKey("item.id", ondelete="CASCADE"))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("community.id", ondelete="CASCADE"))
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())

    __table_args__ = (
        # One index per thing a person can follow: the feed reads the newest few of each and merges them.
        Index("ix_activity_actor", "actor_id", text("id DESC")),
        Index("ix_activity_community", "community_id", text("id DESC")),
        Index("ix_activity_item", "item_id"),
    )


class ActivityTag(Base):
    """The tags (#hashtags, item tags) an activity carries, by folded key: followers of a tag see it."""

    __tablename__ = "activity_tag"

    tag_key: Mapped[str] = mapped_column(String(200, collation="C"), primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id", ondelete="CASCADE"), primary_key=True)


class Follow(Base):
    """A person following a person, a community or a tag (`target` is an id, or a tag's folded key)."""

    __tablename__ = "follow"

    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), primary_key=True)
    target_kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    target: Mapped[str] = mapped_column(String(200, collation="C"), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())

    __table_args__ = (
        CheckConstraint("target_kind IN ('person', 'community', 'tag')", name="target_kind_known"),
        Index("ix_follow_target", "target_kind", "target"),  # who follows this (fan-out, counts)
    )
