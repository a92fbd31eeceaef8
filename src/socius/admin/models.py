"""The audit log: who did what to which object, with old and new values."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from socius.core.db import Base


class AuditEntry(Base):
    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    # None for the system (CLI, jobs, directory syncs).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(64))  # e.g. "person.update"
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(64))
    old: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    new: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    ip: Mapped[str] = mapped_column(String(64), server_default="")

    __table_args__ = (
        Index("ix_audit_entry_at", "at"),
        Index("ix_audit_entry_object", "object_type", "object_id", "at"),
        Index("ix_audit_entry_actor", "actor_id", "at"),
    )
