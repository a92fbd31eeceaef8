"""JSON API of the idea portal: /api/v1/campaigns, /api/v1/ideas (votes, stages, follow, shortlist), reviews,
merges, graduation, metrics."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["ideas"])


# --- campaigns and ideas ------------------------------------------------------------------------------------------


# --- reviews and metrics ------------------------------------------------------------------------------------------


# --- merging, graduation and guests -------------------------------------------------------------------------------
