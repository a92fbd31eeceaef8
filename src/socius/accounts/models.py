"""Credentials, browser sessions, personal API tokens, login attempts and guests' invitations by e-mail."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from socius.core.db import Base


class Account(Base):
    """A local login for a person. Directory-provisioned people may have none (SSO)."""

    __tablename__ = "account"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), unique=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)  # lower-case
    password_hash: Mapped[str | None] = mapped_column(String(255))
    password_changed_at: Mapped[dt.datetime | None]
    # Set when an administrator issued a temporary password: the person is asked to choose their own.
    password_must_change: Mapped[bool] = mapped_column(server_default="false")
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())


class WebSession(Base):
    """A signed-in browser. The cookie holds a random token; only its SHA-256 is stored."""

    __tablename__ = "web_session"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    csrf_secret: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    last_seen_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    expires_at: Mapped[dt.datetime]  # absolute expiry
    user_agent: Mapped[str] = mapped_column(String(300), server_default="")
    ip: Mapped[str] = mapped_column(String(64), server_default="")


class ApiToken(Base):
    """A personal API token, shown once; stored as SHA-256 (tokens carry 256 random bits)."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))  # shown in lists so people can tell tokens apart
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    last_used_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]


class LoginFailure(Base):
    """Failed sign-ins by username and by address, for rate limiting. Old rows are pruned."""

    __tablename__ = "login_failure"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    key: Mapped[str] = mapped_column(String(200))
    at: Mapped[dt.datetime] = mapped_column(server_default=func.now())

    __table_args__ = (Index("ix_login_failure_key_at", "key", "at"),)


class GuestInvitation(Base):
    """An e-mail invitation of a new guest to a community or a campaign (`accounts.invitations`). The one-time
    link's token is stored only as its SHA-256, made by the job that sends the e-mail (so it never sits in a table
    in clear)."""

    __tablename__ = "guest_invitation"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    # What the guest is invited to: a community, or a campaign of the idea portal.
    community_id: Mapped[int | None] = mapped_column(ForeignKey("community.id", ondelete="CASCADE"), index=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(320))
    invited_by: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    locale: Mapped[str] = mapped_column(String(16))  # the inviter's language: the e-mail and the page use it
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    expires_at: Mapped[dt.datetime]
    sent_at: Mapped[dt.datetime | None]
    accepted_at: Mapped[dt.datetime | None]

    __table_args__ = (CheckConstraint("(community_id IS NULL) <> (campaign_id IS NULL)", name="one_place"),)
