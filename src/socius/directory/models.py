"""Directory sources (SCIM, LDAP/AD, CSV), the identities they provide, sync reports and the review queue."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    cast,
    func,
    literal_column,
    not_,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from socius.core.db import Base


class SourceKind(enum.StrEnum):
    SCIM = "scim"
    LDAP = "ldap"
    CSV = "csv"


class DirectorySource(Base):
    __tablename__ = "directory_source"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[SourceKind] = mapped_column(String(8))
    # Higher wins when two sources give a field different values.
    precedence: Mapped[int] = mapped_column(server_default=text("100"))
    # Source attribute → profile field (LDAP and CSV; SCIM has its standard schema).
    mapping: Mapped[dict[str, str]] = mapped_column(JSONB, server_default=text("'{}'"))
    # Attributes this source vouches for, by which its people may be linked to existing people.
    link_by: Mapped[list[str]] = mapped_column(JSONB, server_default=text("'[]'"))
    # Non-secret settings: LDAP servers, base DN, filters, TLS, page size.
    config: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'"))
    # Bind password, encrypted with a key derived from the secret key; never shown again or logged.
    secret_encrypted: Mapped[str | None] = mapped_column(Text)
    # SCIM bearer token, SHA-256 (the token carries 256 random bits).
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Minutes between scheduled syncs; 0 = only by hand.
    interval_minutes: Mapped[int] = mapped_column(server_default=text("0"))
    # A sync that sees fewer than this share of the people seen last time deactivates nobody.
    min_seen_ratio: Mapped[float] = mapped_column(server_default=text("0.9"))
    enabled: Mapped[bool] = mapped_column(server_default=text("true"))
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())


class DirectoryIdentity(Base):
    """One entry of one source — (source, external id) — and the person it belongs to."""

    __tablename__ = "directory_identity"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("directory_source.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(400))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    # The source's last word on this entry, in profile-field terms (what it would write).
    values: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'"))
    manager_external_id: Mapped[str | None] = mapped_column(String(400))
    # Source-specific attributes as received, for the source's own protocol (SCIM userName, LDAP DN, …).
    raw: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'"))
    active: Mapped[bool] = mapped_column(server_default=text("true"))
    last_sync_id: Mapped[int | None] = mapped_column(BigInteger)
    version: Mapped[int] = mapped_column(server_default=text("1"))
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(server_default=func.now(), onupdate=func.now())

    __table_args__ = (UniqueConstraint("source_id", "external_id"),)
    # INSERT/UPDATE … RETURNING the server's values (updated_at, version, …): SCIM answers every write with
    # meta.lastModified, which would otherwise cost a SELECT after each flush.
    __mapper_args__ = {"eager_defaults": True}


# --- SCIM lookups -------------------------------------------------------------------------------------------
# The SCIM attributes Entra ID and Okta filter and sort on, as the SQL expressions the indexes below are built on.
# Queries must use these very expressions (the JSON path a literal, the same collation) for PostgreSQL to match
# them to an index. userName and displayName are lowercased (case-insensitive, RFC 7643 §4.1.1) in collation "C",
# which orders by code point and lets `LIKE 'prefix%'` use the index; externalId is case-exact, for `eq`.

def scim_text(*path: str) -> ColumnElement[str]:
    """A string of the SCIM resource as stored in `raw["scim"]`, by JSON path (keys without quotes or commas)."""
    literal = "'{" + ",".join(("scim", *path)) + "}'"
    return DirectoryIdentity.raw.op("#>>", return_type=Text)(literal_column(literal))


def scim_json(*path: str) -> ColumnElement[Any]:
    literal = "'{" + ",".join(("scim", *path)) + "}'"
    return DirectoryIdentity.raw.op("#>", return_type=JSONB)(literal_column(literal))


# A resource deleted through SCIM stays (deactivated) but answers 404 (RFC 7644 §3.6): marked `raw["deleted"]`.
SCIM_LIVE = not_(DirectoryIdentity.raw.op("?", return_type=Boolean)(literal_column("'deleted'")))
SCIM_USER_NAME = func.lower(scim_text("userName").collate("C"))
SCIM_DISPLAY_NAME = func.lower(scim_text("displayName").collate("C"))
SCIM_EXTERNAL_ID = scim_text("externalId")
# The e-mail entries, lowercased as a whole ("Work"/"work", "A@x"/"a@x"), for `@>` containment: one GIN index
# answers `emails.value eq`, `emails[type eq "work"].value eq` and `emails[type eq … and value eq …]`.
SCIM_EMAILS = cast(func.lower(cast(scim_json("emails").self_group(), Text)), JSONB)

Index("ix_directory_identity_scim_user_name", DirectoryIdentity.source_id, SCIM_USER_NAME)
Index("ix_directory_identity_scim_external_id", DirectoryIdentity.source_id, SCIM_EXTERNAL_ID)
Index("ix_directory_identity_scim_display_name", DirectoryIdentity.source_id, SCIM_DISPLAY_NAME)
Index("ix_directory_identity_scim_emails", SCIM_EMAILS.label("scim_emails"), postgresql_using="gin",
      postgresql_ops={"scim_emails": "jsonb_path_ops"})
# Counting and paging a source's live users reads this index alone (an index-only scan), not 200,000 rows.
Index("ix_directory_identity_scim_live", DirectoryIdentity.source_id, DirectoryIdentity.id, postgresql_where=SCIM_LIVE)
Index("ix_directory_identity_updated", DirectoryIdentity.source_id, DirectoryIdentity.updated_at)


class SyncStatus(enum.StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class DirectorySync(Base):
    """The report of one sync run: what it added, updated, merged and deactivated, and what went wrong."""

    __tablename__ = "directory_sync"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("directory_source.id", ondelete="CASCADE"))
    started_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    finished_at: Mapped[dt.datetime | None]
    status: Mapped[SyncStatus] = mapped_column(String(16), server_default=SyncStatus.RUNNING.value)
    dry_run: Mapped[bool] = mapped_column(server_default=text("false"))
    seen: Mapped[int] = mapped_column(server_default=text("0"))
    counts: Mapped[dict[str, int]] = mapped_column(JSONB, server_default=text("'{}'"))
    # Row-level problems: [{"entry": external id or row number, "field": …, "reason": …}]
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default=text("'[]'"))
    # Why nobody was deactivated, when the safety rules held deactivation back.
    note: Mapped[str] = mapped_column(Text, server_default="")

    __table_args__ = (Index("ix_directory_sync_source", "source_id", "started_at"),)


class ReviewStatus(enum.StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class DirectoryReview(Base):
    """A conflict the rules cannot settle, for an administrator to decide."""

    __tablename__ = "directory_review"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("directory_source.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(400))
    reason: Mapped[str] = mapped_column(String(64))  # a msgid key, see service.REVIEW_REASONS
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    candidate_ids: Mapped[list[int]] = mapped_column(JSONB, server_default=text("'[]'"))
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'"))
    status: Mapped[ReviewStatus] = mapped_column(String(16), server_default=ReviewStatus.OPEN.value)
    resolution: Mapped[str] = mapped_column(String(64), server_default="")
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())

    __table_args__ = (Index("ix_directory_review_open", "status", "created_at"),)
