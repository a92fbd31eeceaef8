"""The team builder: a small team that covers every required skill, on the expert finder's evidence.

Weighted set cover, greedily: each candidate covers a skill to the degree of their evidence for it relative to
the best candidate for that skill (1.0 for the best, ignored under COVERS); the next member is whoever adds the
most uncovered coverage, until every skill is covered or the team is full. Each slot offers alternates: the
people who best cover that slot's skills among those not chosen. Skills nobody can cover are the gaps.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from socius.admin import service as audit
from socius.core.auth import Principal
from socius.core.authz import Permission, require
from socius.core.db import one_of
from socius.core.errors import FieldError, NotFound, ValidationFailed
from socius.core.i18n import N_
from socius.expertise import finder
from socius.expertise.models import Team
from socius.people import service as people
from socius.people.models import Person
from socius.search.backend import SearchBackend

CANDIDATES_PER_SKILL = 30
COVERS = 0.25  # a candidate with less than a quarter of the best evidence for a skill does not cover it
ALTERNATES = 3
MAX_SIZE = 20
MAX_TITLE = 200


@dataclass
class TeamRequest:
    skills: list[str]
    location: str | None = None
    languages: list[str] = field(default_factory=list)
    size: int | None = None  # at most this many members; None: as many as the skills need


@dataclass
class Slot:
    person: Person
    skills: list[str]  # the skills this member was chosen for
    alternates: list[Person]
    evidence: finder.Evidence = field(default_factory=finder.Evidence)


@dataclass
class Proposal:
    request: TeamRequest
    slots: list[Slot]
    gaps: list[str]  # skills nobody in the team covers

    @property
    def covered(self) -> list[str]:
        return [s for s in self.request.skills if s not in self.gaps]


def clean_request(skills: object, location: object = None, languages: object = None,
                  size: object = None) -> TeamRequest:
    """A TeamRequest from what a form or the API sent, or a ValidationFailed naming each field at fault."""
    errors: list[FieldError] = []
    names: list[str] = []
    if isinstance(skills, str):
        names = finder.split_skills(skills)
    elif isinstance(skills, list) and all(isinstance(s, str) for s in skills):
        names = finder.split_skills(",".join(skills))
    else:
        errors.append(FieldError("skills", N_("must be a list of skills")))
    if not errors and not names:
        errors.append(FieldError("skills", N_("must name at least one skill")))
    if len(names) > finder.MAX_SKILLS:
        errors.append(FieldError("skills", N_("may name at most {n} skills"), {"n": finder.MAX_SKILLS}))
    if location is not None and not isinstance(location, str):
        errors.append(FieldError("location", N_("must be text")))
    langs: list[str] = []
    if isinstance(languages, str):
        langs = [code.strip() for code in languages.replace("，", ",").split(",") if code.strip()]
    elif isinstance(languages, list) and all(isinstance(code, str) for code in languages):
        langs = languages
    elif languages is not None:
        errors.append(FieldError("languages", N_("must be a list of language codes")))
    if size in ("", None):
        size = None
    elif isinstance(size, str) and size.strip().isdigit():
        size = int(size)
    if size is not None and (not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= MAX_SIZE):
        errors.append(FieldError("size", N_("must be between 1 and {n}"), {"n": MAX_SIZE}))
    if errors:
        raise ValidationFailed(errors)
    return TeamRequest(skills=names, location=location or None, languages=langs[:5], size=size)


async def propose(db: AsyncSession, principal: Principal, backend: SearchBackend | None,
                  request: TeamRequest) -> Proposal:
    require(principal, Permission.EXPERTISE_READ)
    query = finder.ExpertQuery(q=", ".join(request.skills), location=request.location)
    finder.validate(query, skills_field="skills")
    ranked = await finder.score(db, principal, backend, query, request.skills,
                                limit=CANDIDATES_PER_SKILL * len(request.skills))
    if request.languages:
        # Every member must speak at least one of them (people with none recorded are left out).
        spoken = dict((await db.execute(select(Person.id, Person.languages).where(
            one_of(Person.id, [r.person_id for r in ranked])))).all())
        ranked = [r for r in ranked if set(spoken.get(r.person_id) or ()) & set(request.languages)]
    coverage = _coverage(ranked, request.skills)
    by_id = {r.person_id: r for r in ranked}
    chosen: list[tuple[int, list[str]]] = []
    taken: set[int] = set()
    open_skills = [s for s in request.skills if any(s in c for c in coverage.values())]
    limit = request.size or len(request.skills)
    while open_skills and len(chosen) < limit:
        wanted = set(open_skills)
        best = max((p for p in coverage if p not in taken),
                   key=lambda p: (_gain(coverage[p], wanted), by_id[p].score), default=None)
        if best is None or not _gain(coverage[best], wanted):
            break
        won = [s for s in open_skills if coverage[best].get(s)]
        chosen.append((best, won))
        taken.add(best)
        open_skills = [s for s in open_skills if s not in won]
    alternates = {}
    for person_id, won in chosen:
        gains = {p: _gain(coverage[p], set(won)) for p in coverage if p not in taken}
        others = sorted((p for p, gain in gains.items() if gain), key=lambda p: (-gains[p], -by_id[p].score))
        alternates[person_id] = others[:ALTERNATES]
    # Whole people only for those shown (hundreds of candidates, a few members and alternates).
    shown = await finder.load_people(db, [*taken, *(p for ps in alternates.values() for p in ps)])
    slots = []
    for person_id, won in chosen:
        scored = by_id[person_id]
        evidence = finder.merge_evidence(scored.by_skill[s] for s in won if s in scored.by_skill)
        slots.append(Slot(person=shown[person_id], skills=won, alternates=[shown[p] for p in alternates[person_id]],
                          evidence=evidence))
    gaps = [s for s in request.skills if not any(s in slot.skills for slot in slots)]
    return Proposal(request=request, slots=slots, gaps=gaps)


def _gain(share: dict[str, float], skills: set[str]) -> float:
    """What a candidate adds towards these skills: walks the candidate's own one or two skills rather than every
    skill asked for (the greedy choice weighs every candidate once a slot)."""
    return sum(value for skill, value in share.items() if skill in skills)


def _coverage(ranked: list[finder.Scored], skills: list[str]) -> dict[int, dict[str, float]]:
    """{person: {skill: evidence relative to the best candidate for it}}, below COVERS left out."""
    best = {s: max((r.by_skill[s].score for r in ranked if s in r.by_skill), default=0.0) for s in skills}
    coverage: dict[int, dict[str, float]] = {}
    for candidate in ranked:
        share = {s: ev.score / best[s] for s, ev in candidate.by_skill.items()
                 if best.get(s) and ev.score / best[s] >= COVERS}
        if share:
            coverage[candidate.person_id] = share
    return coverage


# --- saving and sharing ---------------------------------------------------------------------------------------

async def save(db: AsyncSession, principal: Principal, proposal: Proposal, title: object, *, ip: str = "") -> Team:
    require(principal, Permission.EXPERTISE_READ)
    if not isinstance(title, str) or not title.strip():
        raise ValidationFailed.one("title", N_("must not be empty"))
    if len(title.strip()) > MAX_TITLE:
        raise ValidationFailed.one("title", N_("must be at most {max} characters"), max=MAX_TITLE)
    request = proposal.request
    team = Team(title=title.strip(), created_by=principal.person_id, skills=request.skills,
                options={"location": request.location, "languages": request.languages, "size": request.size},
                members=[{"person_id": s.person.id, "skills": s.skills, "alternates": [a.id for a in s.alternates],
                          "evidence": s.evidence.as_json()} for s in proposal.slots],
                gaps=proposal.gaps)
    db.add(team)
    await db.flush()
    await audit.record(db, principal, "team.save", "team", team.id, new={"title": team.title, "skills": team.skills},
                       ip=ip)
    return team


@dataclass
class SavedTeam:
    team: Team
    slots: list[Slot]


async def get_saved(db: AsyncSession, principal: Principal, team_id: int) -> SavedTeam:
    """A saved team as this reader may see it: people they may not see are left out."""
    require(principal, Permission.EXPERTISE_READ)
    team = await db.get(Team, team_id) if 0 < team_id < 2**63 else None
    if team is None:
        raise NotFound()
    ids = {m["person_id"] for m in team.members} | {a for m in team.members for a in m.get("alternates", [])}
    visible = {p.id: p for p in await db.scalars(
        select(Person).where(one_of(Person.id, list(ids)), people.readable_clause(principal)))}
    slots = [Slot(person=visible[m["person_id"]], skills=m["skills"],
                  alternates=[visible[a] for a in m.get("alternates", []) if a in visible],
                  evidence=finder.Evidence.from_json(m.get("evidence", {})))
             for m in team.members if m["person_id"] in visible]
    return SavedTeam(team=team, slots=slots)


def _cell(value: str) -> str:
    """Spreadsheets run a cell starting with = + - @ as a formula: such text is prefixed with a quote."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def as_csv(slots: list[Slot], gaps: list[str], headings: list[str], gap_label: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headings)
    for slot in slots:
        p = slot.person
        writer.writerow([_cell(v) for v in (p.display_name, p.title or "", p.department or "", p.location or "",
                                            p.email or "", ", ".join(slot.skills),
                                            ", ".join(a.display_name for a in slot.alternates))])
    for gap in gaps:
        writer.writerow([_cell(v) for v in (gap_label, "", "", "", "", gap, "")])
    return out.getvalue()
