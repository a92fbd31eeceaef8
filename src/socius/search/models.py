"""The search outbox: one row per change to a searchable row, written by triggers in the same transaction."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Index, String, func, text
from sqlalchemy.orm import Mapped, mapped_column

from socius.core.db import Base


class SearchOutbox(Base):
    """A searchable item changed (inserted, updated or deleted): the indexer loads its current state.

    Rows come from statement-level triggers on the searchable tables (migration 0006), so every write path —
    the ORM, the directory sync's bulk statements, COPY seeding — is covered without the module remembering.
    `txid` lets a rebuild replay exactly the changes its snapshot did not see; `applied` rows are kept while a
    rebuild runs (see search/indexer.py).
    """

    __tablename__ = "search_outbox"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    item_id: Mapped[int] = mapped_column(BigInteger)
    txid: Mapped[int] = mapped_column(BigInteger, server_default=text("txid_current()"))
    applied: Mapped[bool] = mapped_column(server_default=text("false"))
    queued_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())

    __table_args__ = (Index("ix_search_outbox_pending", "id", postgresql_where=text("NOT applied")),)
