"""API shapes for expertise. Input is validated by the service (one place for pages and API)."""

from __future__ import annotations

from pydantic import BaseModel

from socius.people.schemas import PersonRef


class TagSuggestionOut(BaseModel):
    key: str
    label: str
    people: int
    url: str


class TagSuggestionsOut(BaseModel):
    items: list[TagSuggestionOut]


class TagIn(BaseModel):
    tag: object = None  # checked by the service, so a wrong type gets the same clear error as a bad tag


class ProfileTagOut(BaseModel):
    key: str
    label: str
    count: int
    self_tagged: bool
    colleagues: int
    hidden: bool
    mine: bool
    given_by: list[PersonRef]
    url: str


class ProfileTagsOut(BaseModel):
    items: list[ProfileTagOut]


class TagEvidenceOut(BaseModel):
    key: str
    label: str
    self_tagged: bool
    colleagues: int
    match: str


class EvidenceOut(BaseModel):
    summary: list[str]
    tags: list[TagEvidenceOut]
    content: dict[str, int]
    profile: bool


class ExpertOut(BaseModel):
    person: PersonRef
    department: str | None
    location: str | None
    score: float
    evidence: EvidenceOut


class ExpertsOut(BaseModel):
    q: str
    skills: list[str]
    items: list[ExpertOut]


class TeamIn(BaseModel):
    skills: object = None
    location: object = None
    languages: object = None
    size: object = None
    title: object = None  # given: the team is saved and gets a shareable page


class SlotOut(BaseModel):
    person: PersonRef
    skills: list[str]
    alternates: list[PersonRef]
    evidence: list[str]


class TeamOut(BaseModel):
    skills: list[str]
    covered: list[str]
    gaps: list[str]
    members: list[SlotOut]
    id: int | None = None
    url: str | None = None


class CoverageRow(BaseModel):
    key: str
    label: str
    people: int


class CoverageOut(BaseModel):
    department: str | None
    people: int
    below: int
    tags: list[CoverageRow]
    thin: list[CoverageRow]


class MergeIn(BaseModel):
    source: str
    target: str


class SynonymIn(BaseModel):
    synonym: object = None
