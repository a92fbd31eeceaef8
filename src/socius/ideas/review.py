"""Reviews: managers assign reviewers, reviewers score each criterion (1–5) and comment privately.

(The scoring workflow is built on these rules; criteria are replaced here because their scores depend on them.)
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from socius.core.errors import ValidationFailed
from socius.core.i18n import N_
from socius.ideas.models import Campaign, Criterion, Idea, ReviewAssignment


async def replace_criteria(db: AsyncSession, campaign: Campaign, criteria: list[dict[str, Any]]) -> None:
    """A campaign's criteria, replaced as a whole — refused once a review has been submitted, since its scores
    were given against the old ones."""
    submitted = await db.scalar(select(exists().where(
        ReviewAssignment.idea_id == Idea.item_id, Idea.campaign_id == campaign.id,
        ReviewAssignment.submitted_at.is_not(None))))
    if submitted:
        raise ValidationFailed.one("criteria", N_("cannot change once reviews have been submitted"))
    await db.execute(delete(Criterion).where(Criterion.campaign_id == campaign.id))
    db.add_all([Criterion(campaign_id=campaign.id, position=i, **c) for i, c in enumerate(criteria)])
    await db.flush()
