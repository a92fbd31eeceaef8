"""File versions. A file is an item of kind `file` (title: the latest version's name; body: its description);
each upload is a version whose bytes live under `<data_dir>/files/` by their SHA-256."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, Integer, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from socius.core.db import Base


class FileVersion(Base):
    __tablename__ = "file_version"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(255))
    # Sniffed from the bytes when uploaded; never what the client claimed.
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    # Where the bytes are, relative to <data_dir>/files/ (derived from the hash, never from the name).
    storage_key: Mapped[str] = mapped_column(String(80))
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())

    __table_args__ = (UniqueConstraint("item_id", "number", name="uq_file_version_number"),)
