"""People: one profile per human. Accounts (credentials) live in `accounts`."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, LargeBinary, String, Text, func, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from socius.core.db import Base, Timestamped


class Role(enum.StrEnum):
    ADMINISTRATOR = "administrator"
    MEMBER = "member"
    GUEST = "guest"  # external: partners and customers


class Person(Timestamped, Base):
    __tablename__ = "person"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    name_native: Mapped[str | None] = mapped_column(String(200))
    name_latin: Mapped[str | None] = mapped_column(String(200))
    # Stored lower-case; unique among all people, former ones included.
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    # The HR number directories agree on; unique when present.
    employee_number: Mapped[str | None] = mapped_column(String(64), unique=True)
    title: Mapped[str | None] = mapped_column(String(200))
    department: Mapped[str | None] = mapped_column(String(200), index=True)
    location: Mapped[str | None] = mapped_column(String(200), index=True)
    time_zone: Mapped[str | None] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(64))
    languages: Mapped[list[str]] = mapped_column(ARRAY(String(35)), server_default=text("'{}'"))
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"), index=True)
    about_md: Mapped[str] = mapped_column(Text, server_default="")
    about_html: Mapped[str] = mapped_column(Text, server_default="")  # sanitised when saved
    links: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default=text("'[]'"))
    role: Mapped[Role] = mapped_column(String(16), server_default=Role.MEMBER.value)
    deactivated_at: Mapped[dt.datetime | None]
    locale: Mapped[str | None] = mapped_column(String(16))
    # Fields this person hides from guests (see people.service.GUEST_HIDEABLE).
    guest_hidden: Mapped[list[str]] = mapped_column(ARRAY(String(32)), server_default=text("'{}'"))
    has_photo: Mapped[bool] = mapped_column(server_default=text("false"))
    # Orders the directory: Latin name (or pinyin of the native one), lower-case.
    sort_key: Mapped[str] = mapped_column(String(400), server_default="")
    version: Mapped[int] = mapped_column(server_default=text("1"))

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_person_directory_order", "sort_key", "id"),
        Index("ix_person_language", "languages", postgresql_using="gin"),
    )

    @property
    def is_active(self) -> bool:
        return self.deactivated_at is None

    @property
    def is_guest(self) -> bool:
        return self.role == Role.GUEST


class PersonNameKey(Base):
    """Lower-case keys a person is found by as one types: names, pinyin, initials, e-mail.

    Both columns use the "C" collation, so one btree on (key, sort_key, person_id) serves a prefix LIKE *and*
    returns matches already in directory order: "c" or "陳" at 200,000 people reads only the rows of one page.
    `sort_key` repeats `person.sort_key` for that reason (refresh_name_keys keeps them in step).
    """

    __tablename__ = "person_name_key"

    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(400, collation="C"), primary_key=True)
    sort_key: Mapped[str] = mapped_column(String(400, collation="C"), server_default="")

    __table_args__ = (Index("ix_person_name_key_lookup", "key", "sort_key", "person_id"),)


class PersonPhoto(Base):
    """Re-encoded JPEGs; the upload itself is never kept or served."""

    __tablename__ = "person_photo"

    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), primary_key=True)
    large: Mapped[bytes] = mapped_column(LargeBinary)
    small: Mapped[bytes] = mapped_column(LargeBinary)
    etag: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime]


class PersonFieldSource(Base):
    """Where a profile field's value came from: a directory source, or a person's own edit (source_id NULL).

    Directory sync writes a field only where its precedence allows and the person has not taken the field over,
    unless an administrator locked the field to the directory.
    """

    __tablename__ = "person_field_source"

    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), primary_key=True)
    field: Mapped[str] = mapped_column(String(32), primary_key=True)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("directory_source.id", ondelete="SET NULL"))
    locked: Mapped[bool] = mapped_column(server_default=text("false"))
    updated_at: Mapped[dt.datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
