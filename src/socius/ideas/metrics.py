"""Innovation metrics, per campaign and overall, over a period [start, end).

- funnel: ideas in each stage now (the campaign's pipeline in order, then declined and merged).
- new voices: people who contributed in scope during the period (an idea or comment in a campaign, a vote) and
  whose first-ever contribution anywhere (any item authored, any vote cast) falls in the period.
- time to first idea: seconds from a campaign's `opens_at` to its first idea; overall, the mean over the
  campaigns opened in the period that have ideas.
- participation: people contributing in scope during the period, by department and as employees vs guests.
- time in stage: the mean seconds an idea stayed in each stage it entered during the period, from the stage
  changes (entering a stage until the idea's next change; the current stage counts until now).

A campaign's managers see its metrics; the overall ones need `Permission.CAMPAIGNS_ADMINISTER`. `to_csv` exports
them for spreadsheets: UTF-8 with a byte order mark for Excel, every cell safe against formula injection.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, literal, select, true, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from socius.content.models import Item
from socius.core.auth import Principal
from socius.core.authz import Permission, require
from socius.core.db import utcnow
from socius.core.errors import FieldError, ValidationFailed
from socius.core.i18n import N_, gettext
from socius.ideas import access
from socius.ideas.models import Campaign, Idea, Stage, StageChange, Vote
from socius.people.models import Person, Role

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
OUTSIDE_STAGES = (Stage.DECLINED.value, Stage.MERGED.value)


@dataclass
class Metrics:
    start: dt.datetime | None
    end: dt.datetime
    campaign_id: int | None = None
    funnel: list[tuple[str, int]] = field(default_factory=list)
    new_voices: int = 0
    contributors: int = 0
    time_to_first_idea: float | None = None  # seconds
    departments: list[tuple[str, int]] = field(default_factory=list)  # "" for people without a department
    employees: int = 0
    guests: int = 0
    time_in_stage: list[tuple[str, float]] = field(default_factory=list)  # stage, mean seconds
    agreement: float | None = None  # reviewer agreement (see review.agreement_of), per campaign


def parse_period(start: Any, end: Any) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The period from query values (ISO dates or datetimes; empty: open-ended), or ValidationFailed."""
    errors: list[FieldError] = []
    found = []
    for name, value in (("start", start), ("end", end)):
        if value in (None, ""):
            found.append(None)
            continue
        if isinstance(value, str):
            try:
                value = dt.datetime.fromisoformat(value.strip())
            except ValueError:
                errors.append(FieldError(name, N_("must be a date such as 2026-12-01")))
                found.append(None)
                continue
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            value = dt.datetime.combine(value, dt.time.min)
        found.append(value if value.tzinfo else value.replace(tzinfo=dt.UTC))
    if not errors and found[0] and found[1] and found[1] <= found[0]:
        errors.append(FieldError("end", N_("must be after the start")))
    if errors:
        raise ValidationFailed(errors)
    return found[0], found[1]


def _within(column: Any, start: dt.datetime | None, end: dt.datetime) -> ColumnElement[bool]:
    return and_(column < end, column >= start if start is not None else true())


def _contributions(campaign_id: int | None) -> Select[Any]:
    """(person_id, at) of every contribution in scope: ideas and comments in campaigns, votes on ideas."""
    items = select(Item.author_id.label("person_id"), Item.created_at.label("at")).where(
        Item.campaign_id.is_not(None), Item.author_id.is_not(None), Item.deleted_at.is_(None))
    votes = select(Vote.person_id, Vote.created_at.label("at")).join(Idea, Idea.item_id == Vote.idea_id)
    if campaign_id is not None:
        items = items.where(Item.campaign_id == campaign_id)
        votes = votes.where(Idea.campaign_id == campaign_id)
    return union_all(items, votes)  # type: ignore[return-value]


def _first_ever() -> Select[Any]:
    """Each person's first contribution anywhere: any item authored or vote cast."""
    every = union_all(select(Item.author_id.label("person_id"), Item.created_at.label("at"))
                      .where(Item.author_id.is_not(None)),
                      select(Vote.person_id, Vote.created_at.label("at"))).subquery()
    return select(every.c.person_id, func.min(every.c.at).label("first")).group_by(every.c.person_id)


async def _compute(db: AsyncSession, campaign: Campaign | None, start: dt.datetime | None,
                   end: dt.datetime | None) -> Metrics:
    end = end or utcnow()
    cid = campaign.id if campaign is not None else None
    found = Metrics(start=start, end=end, campaign_id=cid)

    # The funnel, now.
    query = select(Idea.stage, func.count()).join(Item, Item.id == Idea.item_id) \
        .where(Item.deleted_at.is_(None)).group_by(Idea.stage)
    if cid is not None:
        query = query.where(Idea.campaign_id == cid)
    counts = dict((await db.execute(query)).all())
    order = list(campaign.stages) if campaign is not None else []
    order += [s for s in OUTSIDE_STAGES if s not in order]
    order += sorted(s for s in counts if s not in order)
    found.funnel = [(s, counts.get(s, 0)) for s in order if s in counts or campaign is not None]

    # Contributors in the period, their departments and roles, and the new voices among them.
    contributions = _contributions(cid).subquery()
    people = select(contributions.c.person_id).where(_within(contributions.c.at, start, end)).distinct().subquery()
    rows = (await db.execute(select(Person.id, Person.department, Person.role)
                             .join(people, people.c.person_id == Person.id))).all()
    found.contributors = len(rows)
    departments: dict[str, int] = {}
    for _, department, role in rows:
        departments[department or ""] = departments.get(department or "", 0) + 1
        if role == Role.GUEST.value:
            found.guests += 1
        else:
            found.employees += 1
    found.departments = sorted(departments.items(), key=lambda d: (-d[1], d[0]))
    first = _first_ever().subquery()
    found.new_voices = await db.scalar(select(func.count()).select_from(people).join(
        first, first.c.person_id == people.c.person_id).where(_within(first.c.first, start, end))) or 0

    # Time to the first idea.
    firsts = select(Campaign.id, Campaign.opens_at, func.min(Item.created_at).label("first")) \
        .join(Item, and_(Item.campaign_id == Campaign.id, Item.kind == "idea")).group_by(Campaign.id)
    if cid is not None:
        firsts = firsts.where(Campaign.id == cid)
    else:
        firsts = firsts.where(_within(Campaign.opens_at, start, end))
    waits = [max((first_at - opens).total_seconds(), 0.0) for _, opens, first_at in (await db.execute(firsts)).all()]
    found.time_to_first_idea = sum(waits) / len(waits) if waits else None

    # Time in each stage entered during the period.
    left = func.lead(StageChange.changed_at).over(partition_by=StageChange.idea_id,
                                                  order_by=(StageChange.changed_at, StageChange.id))
    spans = select(StageChange.to_stage.label("stage"), StageChange.changed_at.label("entered"),
                   func.coalesce(left, literal(utcnow())).label("left"))
    if cid is not None:
        spans = spans.where(StageChange.campaign_id == cid)
    spans = spans.subquery()
    rows = (await db.execute(select(spans.c.stage, func.avg(func.extract("epoch", spans.c.left - spans.c.entered)))
                             .where(_within(spans.c.entered, start, end)).group_by(spans.c.stage))).all()
    means = {stage: float(mean) for stage, mean in rows}
    found.time_in_stage = [(s, means[s]) for s in order if s in means] + \
        sorted((s, m) for s, m in means.items() if s not in order)
    if campaign is not None:
        from socius.ideas import review

        found.agreement = await review.agreement(db, campaign.id)
    return found


async def campaign_metrics(db: AsyncSession, principal: Principal, campaign_id: Any,
                           start: dt.datetime | None = None, end: dt.datetime | None = None) -> Metrics:
    campaign = await access.get_campaign(db, principal, campaign_id)
    await access.require_manager(db, principal, campaign)
    return await _compute(db, campaign, start, end)


async def overall_metrics(db: AsyncSession, principal: Principal, start: dt.datetime | None = None,
                          end: dt.datetime | None = None) -> Metrics:
    require(principal, Permission.CAMPAIGNS_ADMINISTER)
    return await _compute(db, None, start, end)


# --- CSV -----------------------------------------------------------------------------------------------------------

def safe_cell(value: Any) -> str:
    """A cell a spreadsheet shows as text: one starting like a formula gets a leading apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


# The CSV's metric names for people reading it in a spreadsheet (`csv_labels`, in the request's language).
CSV_LABELS = {
    "metric": N_("Metric"), "key": N_("Key"), "value": N_("Value"), "period_start": N_("Period start"),
    "period_end": N_("Period end"), "funnel": N_("Ideas in stage"), "contributors": N_("Contributors"),
    "new_voices": N_("New voices (first contribution ever)"), "time_to_first_idea_hours": N_("Hours to the first idea"),
    "department": N_("By department"), "employees": N_("Employees"), "guests": N_("Guests"),
    "time_in_stage_hours": N_("Average hours in stage"), "review_agreement": N_("Reviewer agreement"),
}


def csv_labels() -> dict[str, str]:
    return {key: gettext(label) for key, label in CSV_LABELS.items()}


def to_csv(found: Metrics, labels: dict[str, str] | None = None) -> bytes:
    """The metrics as CSV rows (metric, key, value): UTF-8 with a byte order mark, so Excel reads it as UTF-8.
    `labels` translates the metric names (the keys are shown as they are)."""
    labels = labels or {}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")

    def row(metric: str, key: Any, value: Any) -> None:
        writer.writerow([safe_cell(labels.get(metric, metric)), safe_cell(key), safe_cell(value)])

    row("metric", "key", "value")
    row("period_start", "", found.start.isoformat() if found.start else "")
    row("period_end", "", found.end.isoformat())
    for stage, count in found.funnel:
        row("funnel", stage, count)
    row("contributors", "", found.contributors)
    row("new_voices", "", found.new_voices)
    row("time_to_first_idea_hours", "", "" if found.time_to_first_idea is None
        else round(found.time_to_first_idea / 3600, 2))
    for department, count in found.departments:
        row("department", department, count)
    row("employees", "", found.employees)
    row("guests", "", found.guests)
    for stage, seconds in found.time_in_stage:
        row("time_in_stage_hours", stage, round(seconds / 3600, 2))
    if found.campaign_id is not None:
        row("review_agreement", "", "" if found.agreement is None else round(found.agreement, 3))
    return ("\ufeff" + out.getvalue()).encode("utf-8")
