"""Idea portal pages: /campaigns (the list, a new campaign), a campaign (its ideas by ranking, leaderboard,
timeline, members), /ideas/{id} (an idea: votes, comments, stage, follow), reviews, merges, graduation, metrics."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)


# --- campaigns and ideas ------------------------------------------------------------------------------------------


# --- reviews and metrics ------------------------------------------------------------------------------------------


# --- merging, graduation and guests -------------------------------------------------------------------------------
