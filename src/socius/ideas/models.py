"""Campaigns, ideas, votes, reviews and merges.

An idea is an item (kind `idea`, `item.campaign_id` set): its text, tags, comments, mentions, reports and search
come from `content`. `idea` holds what only ideas have — the stage, the vote counts and the rankings kept up to
date with every vote, the review score, what it was merged into and the project it became.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from socius.core.db import Base


class Audience(enum.StrEnum):
    EMPLOYEES = "employees"  # every employee reads and takes part
    COMMUNITY = "community"  # whoever reads the campaign's community
    INVITED = "invited"      # only the people invited (and its managers): a private space
    # In every audience, invited participants (guests too) take part.


class CampaignRole(enum.StrEnum):
    OWNER = "owner"
    MANAGER = "manager"          # moves ideas through stages, assigns reviewers, merges, shortlists
    PARTICIPANT = "participant"  # invited: a guest, or anyone in a private campaign


class Stage(enum.StrEnum):
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    SELECTED = "selected"
    IN_DEVELOPMENT = "in_development"
    LAUNCHED = "launched"
    DECLINED = "declined"
    MERGED = "merged"


DEFAULT_STAGES = [Stage.SUBMITTED.value, Stage.UNDER_REVIEW.value, Stage.SELECTED.value,
                  Stage.IN_DEVELOPMENT.value, Stage.LAUNCHED.value]


class Campaign(Base):
    __tablename__ = "campaign"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    brief_md: Mapped[str] = mapped_column(Text, server_default="")
    brief_html: Mapped[str] = mapped_column(Text, server_default="")
    audience: Mapped[str] = mapped_column(String(16))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("community.id", ondelete="RESTRICT"), index=True)
    tags: Mapped[list[str]] = mapped_column(ARRAY(String(50)), server_default=text("'{}'"))
    opens_at: Mapped[dt.datetime]
    closes_at: Mapped[dt.datetime | None]
    # The pipeline, in order: stage keys (the default ones, or a campaign's own names). "declined" and "merged"
    # are outside it and always exist.
    stages: Mapped[list[str]] = mapped_column(JSONB)
    # Managers may move an idea forward past stages (not only to the next one).
    allow_skip: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    allow_down_votes: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    # A guest's idea waits for a manager's approval before others see it.
    moderate_guests: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    # Reviewers see each other's scores only after submitting their own.
    blind_review: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    idea_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
    archived_at: Mapped[dt.datetime | None]

    __table_args__ = (
        CheckConstraint("audience IN ('employees', 'community', 'invited')", name="audience_known"),
        CheckConstraint("(audience = 'community') = (community_id IS NOT NULL)", name="community_iff_audience"),
        Index("ix_campaign_opens", text("opens_at DESC")),
    )


class CampaignMember(Base):
    __tablename__ = "campaign_member"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    invited_by: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())

    __table_args__ = (
        CheckConstraint("role IN ('owner', 'manager', 'participant')", name="role_known"),
        Index("ix_campaign_member_person", "person_id", "campaign_id"),
    )


class Criterion(Base):
    """A review criterion, scored 1–5 by each reviewer; an idea's review score is the weighted mean."""

    __tablename__ = "campaign_criterion"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(1000), server_default="")
    weight: Mapped[float] = mapped_column(Float, server_default=text("1"))
    position: Mapped[int] = mapped_column(Integer, server_default=text("0"))

    __table_args__ = (CheckConstraint("weight > 0 AND weight <= 100", name="weight_range"),)


class Idea(Base):
    __tablename__ = "idea"

    item_id: Mapped[int] = mapped_column(ForeignKey("item.id", ondelete="CASCADE"), primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    stage: Mapped[str] = mapped_column(String(40))
    stage_changed_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    up_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    down_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    # Kept by every vote, in the same statement as the counts: the "top" and "hot" lists read an index.
    top: Mapped[float] = mapped_column(Float, server_default=text("0"))  # Wilson lower bound of up/(up+down)
    hot: Mapped[float] = mapped_column(Float, server_default=text("0"))  # net votes, decayed by age (see ranking)
    follower_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    review_score: Mapped[float | None] = mapped_column(Float)   # weighted mean over submitted reviews, 1–5
    review_spread: Mapped[float | None] = mapped_column(Float)  # standard deviation between reviewers' scores
    shortlisted: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    # A guest's idea in a campaign that moderates guests: only its authors and the managers see it until approved.
    pending: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("idea.item_id", ondelete="SET NULL"))
    project_community_id: Mapped[int | None] = mapped_column(ForeignKey("community.id", ondelete="SET NULL"),
                                                             unique=True)

    __table_args__ = (
        # The campaign lists, one index per ranking; merged ideas are not listed.
        # "New" reads (-item_id): ordered by item_id, the planner preferred walking the primary key backwards,
        # through every newer campaign's ideas, to find an old campaign's newest (bench/ideas.py: 105 ms → index).
        Index("ix_idea_new", "campaign_id", text("(-item_id)"), postgresql_where=text("merged_into_id IS NULL")),
        Index("ix_idea_top", "campaign_id", text("top DESC"), text("item_id DESC"),
              postgresql_where=text("merged_into_id IS NULL")),
        Index("ix_idea_hot", "campaign_id", text("hot DESC"), text("item_id DESC"),
              postgresql_where=text("merged_into_id IS NULL")),
        Index("ix_idea_review", "campaign_id", text("review_score DESC NULLS LAST"), text("item_id DESC"),
              postgresql_where=text("merged_into_id IS NULL")),
        Index("ix_idea_stage", "campaign_id", "stage", text("item_id DESC")),
        Index("ix_idea_merged_into", "merged_into_id"),
    )


class IdeaCoauthor(Base):
    __tablename__ = "idea_coauthor"

    idea_id: Mapped[int] = mapped_column(ForeignKey("idea.item_id", ondelete="CASCADE"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), primary_key=True)

    __table_args__ = (Index("ix_idea_coauthor_person", "person_id"),)


class Vote(Base):
    """One person's vote on one idea: +1, or -1 where the campaign allows down votes. `merge_id` marks a vote
    a merge moved here (undoing the merge moves it back)."""

    __tablename__ = "idea_vote"

    idea_id: Mapped[int] = mapped_column(ForeignKey("idea.item_id", ondelete="CASCADE"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), primary_key=True)
    value: Mapped[int] = mapped_column(SmallInteger)
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    merge_id: Mapped[int | None] = mapped_column(ForeignKey("idea_merge.id", ondelete="SET NULL"))

    __table_args__ = (
        CheckConstraint("value IN (-1, 1)", name="value_known"),
        Index("ix_idea_vote_person", "person_id", "created_at"),
        Index("ix_idea_vote_merge", "merge_id", postgresql_where=text("merge_id IS NOT NULL")),
    )


class Follower(Base):
    __tablename__ = "idea_follower"

    idea_id: Mapped[int] = mapped_column(ForeignKey("idea.item_id", ondelete="CASCADE"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    merge_id: Mapped[int | None] = mapped_column(ForeignKey("idea_merge.id", ondelete="SET NULL"))

    __table_args__ = (Index("ix_idea_follower_person", "person_id"),)


class StageChange(Base):
    """Every move of an idea between stages, with the manager's reason: the timeline, and time in each stage."""

    __tablename__ = "idea_stage_change"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("idea.item_id", ondelete="CASCADE"))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    from_stage: Mapped[str | None] = mapped_column(String(40))  # None: the idea was submitted
    to_stage: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(String(2000), server_default="")
    changed_by: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    changed_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())

    __table_args__ = (
        Index("ix_idea_stage_change_idea", "idea_id", "id"),
        Index("ix_idea_stage_change_campaign", "campaign_id", "changed_at"),
    )


class ReviewAssignment(Base):
    """A reviewer assigned to an idea by a manager; their private comment and, once submitted, their scores."""

    __tablename__ = "idea_review"

    idea_id: Mapped[int] = mapped_column(ForeignKey("idea.item_id", ondelete="CASCADE"), primary_key=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), primary_key=True)
    assigned_by: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    assigned_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    comment: Mapped[str] = mapped_column(Text, server_default="")  # seen by managers and, after submitting, reviewers
    submitted_at: Mapped[dt.datetime | None]
    score: Mapped[float | None] = mapped_column(Float)  # this reviewer's weighted mean, once submitted

    __table_args__ = (Index("ix_idea_review_reviewer", "reviewer_id", "submitted_at"),)


class ReviewScore(Base):
    __tablename__ = "idea_review_score"

    idea_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    reviewer_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    criterion_id: Mapped[int] = mapped_column(ForeignKey("campaign_criterion.id", ondelete="CASCADE"),
                                              primary_key=True)
    score: Mapped[int] = mapped_column(SmallInteger)

    __table_args__ = (
        CheckConstraint("score BETWEEN 1 AND 5", name="score_range"),
        # Scores belong to an assignment: removing the reviewer removes them.
        ForeignKeyConstraint(["idea_id", "reviewer_id"], ["idea_review.idea_id", "idea_review.reviewer_id"],
                             ondelete="CASCADE"),
    )


class Merge(Base):
    """Idea `source_id` merged into `target_id`. `snapshot` keeps what undoing needs to restore the source as it
    was: its stage, its tags, the target's tags before, and the comments moved."""

    __tablename__ = "idea_merge"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("idea.item_id", ondelete="CASCADE"), index=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("idea.item_id", ondelete="CASCADE"), index=True)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSONB)
    merged_by: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    merged_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    undone_at: Mapped[dt.datetime | None]
    undone_by: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
