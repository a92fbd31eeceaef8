"""Communities and their members."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, Text, func, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from socius.core.db import Base


class Access(enum.StrEnum):
    PUBLIC = "public"          # every employee reads and may join
    MODERATED = "moderated"    # every employee reads; joining needs an owner's approval
    RESTRICTED = "restricted"  # only members know it exists


class MemberRole(enum.StrEnum):
    OWNER = "owner"
    MODERATOR = "moderator"
    MEMBER = "member"


class MemberState(enum.StrEnum):
    ACTIVE = "active"
    REQUESTED = "requested"  # asked to join a moderated community
    INVITED = "invited"      # invited, not yet accepted


class Community(Base):
    """A community. A subcommunity (`parent_id`) is one level deep; under a restricted parent it is restricted
    too and admits only the parent's members, so the parent's privacy holds for everything below it."""

    __tablename__ = "community"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # The name folded (case, width, Traditional→Simplified): the catalog matches a query against it.
    name_key: Mapped[str] = mapped_column(String(400, collation="C"))
    description_md: Mapped[str] = mapped_column(Text, server_default="")
    description_html: Mapped[str] = mapped_column(Text, server_default="")
    access: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("community.id", ondelete="RESTRICT"), index=True)
    tags: Mapped[list[str]] = mapped_column(ARRAY(String(50)), server_default=text("'{}'"))
    # The tags folded as everywhere else (expertise.service.tag_key): a filter by 軟體 finds a community tagged 软件.
    tag_keys: Mapped[list[str]] = mapped_column(ARRAY(String(200)), server_default=text("'{}'"))
    member_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
    # Archived: read-only, still readable by whoever could read it.
    archived_at: Mapped[dt.datetime | None]

    __table_args__ = (
        CheckConstraint("access IN ('public', 'moderated', 'restricted')", name="access_known"),
        Index("ix_community_name_key", "name_key"),
        Index("ix_community_tag_keys", "tag_keys", postgresql_using="gin"),
    )


class Membership(Base):
    __tablename__ = "membership"

    community_id: Mapped[int] = mapped_column(ForeignKey("community.id", ondelete="CASCADE"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), server_default=MemberRole.MEMBER.value)
    state: Mapped[str] = mapped_column(String(16), server_default=MemberState.ACTIVE.value)
    invited_by: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())

    __table_args__ = (
        CheckConstraint("role IN ('owner', 'moderator', 'member')", name="role_known"),
        CheckConstraint("state IN ('active', 'requested', 'invited')", name="state_known"),
        # "My communities", and every access check: is this person an active member of that community?
        Index("ix_membership_person", "person_id", "state", "community_id"),
    )
