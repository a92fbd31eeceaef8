"""JSON API: tags (/api/v1/tags, /api/v1/people/{id}/tags), the expert finder (/api/v1/experts), the team builder
(/api/v1/experts/team, /api/v1/teams/{id}) and skills coverage (/api/v1/expertise/coverage)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from socius.core.authz import Permission, require
from socius.core.requests import Caller, Session, client_ip, json_response
from socius.expertise import finder, service, teams
from socius.expertise.schemas import (
    CoverageOut,
    CoverageRow,
    EvidenceOut,
    ExpertOut,
    ExpertsOut,
    MergeIn,
    ProfileTagOut,
    ProfileTagsOut,
    SlotOut,
    SynonymIn,
    TagEvidenceOut,
    TagIn,
    TagSuggestionOut,
    TagSuggestionsOut,
    TeamIn,
    TeamOut,
)
from socius.people import service as people
from socius.people.api import person_ref
from socius.search import runtime

router = APIRouter(tags=["expertise"])


def rate(request: Request) -> int:
    return request.app.state.settings.tag_rate_per_hour


# --- tags -----------------------------------------------------------------------------------------------------

@router.get("/tags", response_model=TagSuggestionsOut)
async def autocomplete(db: Session, principal: Caller, prefix: Annotated[str, Query(max_length=200)] = "",
                       limit: Annotated[int, Query(ge=1, le=50)] = 10) -> Response:
    require(principal, Permission.EXPERTISE_READ)
    found = await service.autocomplete(db, prefix, limit)
    return json_response(TagSuggestionsOut(items=[
        TagSuggestionOut(key=s.key, label=s.label, people=s.people, url=service.tag_url(s.key)) for s in found]))


async def _profile_tags(db, principal, person_id: int) -> ProfileTagsOut:
    person = await people.get_person(db, principal, person_id)
    shown = await service.profile_tags(db, principal, person)
    return ProfileTagsOut(items=[ProfileTagOut(
        key=t.key, label=t.label, count=t.count, self_tagged=t.self_tagged, colleagues=t.colleagues, hidden=t.hidden,
        mine=t.mine, given_by=[person_ref(p) for p in t.given_by], url=service.tag_url(t.key)) for t in shown])


@router.get("/people/{person_id}/tags", response_model=ProfileTagsOut)
async def profile_tags(db: Session, principal: Caller, person_id: int) -> Response:
    return json_response(await _profile_tags(db, principal, person_id))


@router.post("/people/{person_id}/tags", response_model=ProfileTagsOut, status_code=201)
async def give_tag(request: Request, db: Session, principal: Caller, person_id: int, body: TagIn) -> Response:
    await service.add_tag(db, principal, person_id, body.tag, per_hour=rate(request), ip=client_ip(request))
    return json_response(await _profile_tags(db, principal, person_id), status=201)


@router.delete("/people/{person_id}/tags/{key}", status_code=204)
async def take_back_tag(request: Request, db: Session, principal: Caller, person_id: int, key: str) -> Response:
    await service.remove_tag(db, principal, person_id, key, ip=client_ip(request))
    return Response(status_code=204)


@router.post("/people/{person_id}/tags/{key}/hide", response_model=ProfileTagsOut)
async def hide_tag(request: Request, db: Session, principal: Caller, person_id: int, key: str) -> Response:
    await service.set_hidden(db, principal, person_id, key, True, ip=client_ip(request))
    return json_response(await _profile_tags(db, principal, person_id))


@router.post("/people/{person_id}/tags/{key}/show", response_model=ProfileTagsOut)
async def show_tag(request: Request, db: Session, principal: Caller, person_id: int, key: str) -> Response:
    await service.set_hidden(db, principal, person_id, key, False, ip=client_ip(request))
    return json_response(await _profile_tags(db, principal, person_id))


@router.post("/tags/merge", response_model=TagSuggestionOut)
async def merge_tags(request: Request, db: Session, principal: Caller, body: MergeIn) -> Response:
    tag = await service.merge(db, principal, body.source, body.target, ip=client_ip(request))
    return json_response(TagSuggestionOut(key=tag.key, label=tag.label, people=tag.people_count,
                                          url=service.tag_url(tag.key)))


@router.post("/tags/{key}/synonyms", response_model=TagSuggestionOut)
async def add_synonym(request: Request, db: Session, principal: Caller, key: str, body: SynonymIn) -> Response:
    tag = await service.add_synonym(db, principal, key, body.synonym, ip=client_ip(request))
    return json_response(TagSuggestionOut(key=tag.key, label=tag.label, people=tag.people_count,
                                          url=service.tag_url(tag.key)))


# --- experts --------------------------------------------------------------------------------------------------

def expert_query(
    q: str = "", location: str | None = None, department: str | None = None, language: str | None = None,
    audience: str = "all", near: bool = False, limit: int = 20,
) -> finder.ExpertQuery:
    """The query parameters of an expert search, for the API and the page alike (the service checks them)."""
    return finder.ExpertQuery(q=q, location=location or None, department=department or None,
                              language=language or None, audience=audience, near=near, limit=limit)


ExpertParameters = Annotated[finder.ExpertQuery, Depends(expert_query)]


def evidence_out(ev: finder.Evidence) -> EvidenceOut:
    return EvidenceOut(summary=ev.lines(), profile=ev.profile, content=ev.content, tags=[
        TagEvidenceOut(key=t.key, label=t.label, self_tagged=t.self_tagged, colleagues=t.colleagues, match=t.match)
        for t in ev.tags.values()])


@router.get("/experts", response_model=ExpertsOut)
async def experts(request: Request, db: Session, principal: Caller, wanted: ExpertParameters) -> Response:
    found = await finder.find_experts(db, principal, runtime.from_request(request), wanted)
    return json_response(ExpertsOut(q=wanted.q, skills=finder.split_skills(wanted.q), items=[
        ExpertOut(person=person_ref(e.person), department=e.person.department, location=e.person.location,
                  score=round(e.score, 4), evidence=evidence_out(e.evidence)) for e in found]))


def slot_out(slot: teams.Slot) -> SlotOut:
    return SlotOut(person=person_ref(slot.person), skills=slot.skills, evidence=slot.evidence.lines(),
                   alternates=[person_ref(a) for a in slot.alternates])


@router.post("/experts/team", response_model=TeamOut)
async def build_team(request: Request, db: Session, principal: Caller, body: TeamIn) -> Response:
    wanted = teams.clean_request(body.skills, body.location, body.languages, body.size)
    proposal = await teams.propose(db, principal, runtime.from_request(request), wanted)
    out = TeamOut(skills=wanted.skills, covered=proposal.covered, gaps=proposal.gaps,
                  members=[slot_out(s) for s in proposal.slots])
    if body.title is not None:
        team = await teams.save(db, principal, proposal, body.title, ip=client_ip(request))
        out.id, out.url = team.id, f"/teams/{team.id}"
        return json_response(out, status=201)
    return json_response(out)


@router.get("/teams/{team_id}", response_model=TeamOut)
async def saved_team(db: Session, principal: Caller, team_id: int) -> Response:
    saved = await teams.get_saved(db, principal, team_id)
    covered = [s for s in saved.team.skills if s not in saved.team.gaps]
    return json_response(TeamOut(skills=saved.team.skills, covered=covered, gaps=saved.team.gaps,
                                 members=[slot_out(s) for s in saved.slots], id=saved.team.id,
                                 url=f"/teams/{saved.team.id}"))


@router.get("/expertise/coverage", response_model=CoverageOut)
async def coverage(db: Session, principal: Caller, department: Annotated[str | None, Query(max_length=200)] = None,
                   below: int = 3, limit: Annotated[int, Query(ge=1, le=500)] = 100) -> Response:
    found = await service.coverage(db, principal, department=department or None, below=below, limit=limit)
    return json_response(CoverageOut(
        department=found.department, people=found.people, below=found.below,
        tags=[CoverageRow(key=t.key, label=t.label, people=t.people) for t in found.tags],
        thin=[CoverageRow(key=t.key, label=t.label, people=t.people) for t in found.thin]))

