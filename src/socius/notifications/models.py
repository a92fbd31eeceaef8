"""Notifications: one row per person told about one event."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from socius.core.db import Base


class Notification(Base):
    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))  # see notifications.service.MESSAGES
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    # What the message needs (a tag's label and key, …), and the page it links to.
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'"))
    url: Mapped[str] = mapped_column(String(500), server_default="")
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    read_at: Mapped[dt.datetime | None]

    __table_args__ = (
        Index("ix_notification_person", "person_id", text("id DESC")),
        Index("ix_notification_unread", "person_id", postgresql_where=text("read_at IS NULL")),
    )
