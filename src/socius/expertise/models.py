"""Tags and who gave them. One `tag` per folded key; `person_tag` sums a person's evidence for one tag."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, func, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from socius.core.db import Base


class Tag(Base):
    """One skill or topic. `key` is the folded form every spelling of it shares (預拌混凝土 and 预拌混凝土 are one
    tag); `label` is its most used spelling. A synonym or a merged tag keeps its key, pointing at the tag it now
    means (`merged_into_id`), so typing it later still lands on the right tag."""

    __tablename__ = "tag"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    key: Mapped[str] = mapped_column(String(200, collation="C"), unique=True)
    label: Mapped[str] = mapped_column(String(100))
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("tag.id", ondelete="SET NULL"), index=True)
    # People holding it visibly (not hidden), any state: orders autocomplete; kept in step by the service.
    people_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())


class TagTerm(Base):
    """Where a tag may be found as one types: each suffix of its key that starts a word or a Han character, so
    "混凝" and "concrete" find "预拌混凝土" and "ready-mix concrete" with one prefix scan of a btree.

    Each term also carries what autocomplete ranks by — the tag it leads to (itself, or what it is a synonym of
    or was merged into), that tag's key and people count, and whether the term is a whole key (`head`: the tag
    starts with what was typed) — so a one-character prefix matching thousands of terms is answered from the
    covering index alone. `service.sync_terms` keeps them in step with `tag`."""

    __tablename__ = "tag_term"

    term: Mapped[str] = mapped_column(String(200, collation="C"), primary_key=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True, index=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("tag.id", ondelete="CASCADE"))
    target_key: Mapped[str] = mapped_column(String(200, collation="C"))
    people_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    head: Mapped[bool] = mapped_column(server_default=text("false"))

    __table_args__ = (
        Index("ix_tag_term_lookup", "term", postgresql_include=["target_id", "target_key", "people_count", "head"]),
    )


class TagSpelling(Base):
    """How often each spelling of a tag was typed: the most used one is the tag's label."""

    __tablename__ = "tag_spelling"

    tag_id: Mapped[int] = mapped_column(ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True)
    spelling: Mapped[str] = mapped_column(String(100), primary_key=True)
    uses: Mapped[int] = mapped_column(Integer, server_default=text("0"))


class TagAssignment(Base):
    """One person giving one tag to one person (themselves included). A second colleague giving the same tag is
    an endorsement: another row."""

    __tablename__ = "tag_assignment"

    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), primary_key=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True)
    tagger_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), primary_key=True)
    spelling: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())

    __table_args__ = (
        Index("ix_tag_assignment_tag", "tag_id", "person_id"),
        # Rate limits and "tags I gave".
        Index("ix_tag_assignment_tagger", "tagger_id", "created_at"),
    )


class PersonTag(Base):
    """A person's evidence for one tag, summed from the assignments: what the expert finder ranks by.

    `strength` is `SELF_WEIGHT` if they tagged themselves plus `COLLEAGUE_WEIGHT · log2(1 + colleagues)`; the
    index on (tag, strength) hands the finder a tag's strongest holders without reading the others. A hidden tag
    stays (its endorsements too) but counts for nothing until its owner shows it again."""

    __tablename__ = "person_tag"

    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), primary_key=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True)
    self_tagged: Mapped[bool] = mapped_column(server_default=text("false"))
    colleagues: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    hidden: Mapped[bool] = mapped_column(server_default=text("false"))
    strength: Mapped[float] = mapped_column(server_default=text("0"))
    last_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())

    __table_args__ = (
        Index("ix_person_tag_strength", "tag_id", text("strength DESC"), "person_id",
              postgresql_where=text("NOT hidden")),
    )


class Team(Base):
    """A team the team builder proposed and someone saved to share: the request and the members as proposed."""

    __tablename__ = "team"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    skills: Mapped[list[str]] = mapped_column(ARRAY(String(100)))
    # {"location": …, "languages": […], "size": …}
    options: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'"))
    # [{"person_id": 1, "skills": ["…"], "alternates": [2, 3]}, …] and the skills nobody covered.
    members: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    gaps: Mapped[list[str]] = mapped_column(ARRAY(String(100)), server_default=text("'{}'"))
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
