"""Notifications: one row per person told about one event, and each person's preferences where they differ from
the defaults."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from socius.core.db import Base


class EmailMode(enum.StrEnum):
    NONE = "none"
    IMMEDIATE = "immediate"
    DAILY = "daily"
    WEEKLY = "weekly"


class Notification(Base):
    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))  # see notifications.service.register_kind
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    # What the message needs (a tag's label and key, …), and the page it links to.
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'"))
    url: Mapped[str] = mapped_column(String(500), server_default="")
    # The community the event happened in: shown and mailed only while the visibility filter lets the person see
    # it (service.set_visibility_filter). No foreign key here: the communities module adds it.
    community_id: Mapped[int | None] = mapped_column(ForeignKey("community.id", ondelete="CASCADE"))
    # The campaign of the idea portal it happened in: the same rule, with `ideas.access`'s filter.
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    # False when the person only wants this kind by e-mail: kept for the e-mail, never shown in the app.
    in_app: Mapped[bool] = mapped_column(server_default=text("true"))
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    read_at: Mapped[dt.datetime | None]
    # Set when an e-mail (immediate or digest) carried it: a retried job never sends it again.
    emailed_at: Mapped[dt.datetime | None]

    __table_args__ = (
        Index("ix_notification_person", "person_id", text("id DESC")),
        # Deleting a campaign deletes its notifications (the foreign key's cascade reads this).
        Index("ix_notification_campaign", "campaign_id", postgresql_where=text("campaign_id IS NOT NULL")),
        Index("ix_notification_unread", "person_id", postgresql_where=text("read_at IS NULL")),
        # What a digest may still carry.
        Index("ix_notification_unmailed", "created_at",
              postgresql_where=text("emailed_at IS NULL AND read_at IS NULL")),
    )


class NotificationPreference(Base):
    """Only the kinds where a person's choice differs from the kind's defaults."""

    __tablename__ = "notification_preference"

    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    in_app: Mapped[bool]
    email: Mapped[EmailMode] = mapped_column(String(16))

    __table_args__ = (
        CheckConstraint("email IN ('none', 'immediate', 'daily', 'weekly')", name="email"),
    )
