"""Who knows about X: people ranked by weighted evidence, each result carrying the evidence that ranked it.

For every skill asked about (a query may name several, separated by commas):
- **tags**: the tag the skill folds to (預拌混凝土 = 预拌混凝土), its synonyms, tags naming a word of the query, and
  tags containing the query; each holder's `person_tag.strength` (self tag, colleagues' tags and endorsements),
  weighted by how well the tag matches and by how recent the last tag is. Read per tag from the index on
  (tag, strength), filters applied inside, so a tag with 40,000 holders costs as much as one with 40.
- **content**: the search index's top matches among the kinds modules registered as evidence (posts, answers,
  ideas…), restricted to what the asker may see, aggregated per author; modules may derive further evidence from
  those matches (`register_derived_evidence`: the forum credits the accepted answers of matching questions).
- **profile**: the person's title or "about me" mentions the skill (found through the search index).
A person's score sums their skills, so someone who knows all of them ranks above someone who knows one. Being
in the asker's department can add a small boost. Deactivated people never appear.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import heapq
import math
import re
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import NamedTuple

from sqlalchemy import BigInteger, ColumnElement, Integer, cast, func, select, true
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from socius.core import text as textkit
from socius.core.auth import Principal
from socius.core.authz import Permission, require
from socius.core.db import one_of, utcnow
from socius.core.errors import FieldError, ValidationFailed
from socius.core.i18n import N_, gettext, ngettext
from socius.expertise import service as tags
from socius.expertise.models import PersonTag, Tag
from socius.modules import load_all
from socius.people import service as people
from socius.people.models import Person, Role
from socius.search import registry
from socius.search.backend import Filters, QuerySpec, SearchBackend
from socius.search.query import parse

MAX_SKILLS = 12
MAX_QUERY = 200
AUDIENCES = ("all", "employees", "guests")
# Strongest holders read per matching tag: more for the tag a skill names than for tags that merely match a word.
PER_TAG = {"exact": 300, "word": 60, "contains": 60}
CONTENT_HITS = 300  # top content matches aggregated per author, per skill
PROFILE_HITS = 100
RELATED_TAGS = 8
# How much each kind of evidence weighs (a tag's strength is already 2 for a self tag, 1.5·log2(1+n) for n
# colleagues): a tag that names a word of the query counts less than the exact tag, one that contains it less still.
MATCH_WEIGHTS = {"exact": 1.0, "word": 0.6, "contains": 0.5}
CONTENT_WEIGHT = 1.5
PROFILE_WEIGHT = 1.0
NEAR_BOOST = 1.15
_SKILL_SPLIT = re.compile(r"[,，、;；\n]+")


@dataclass(frozen=True)
class EvidenceKind:
    """A content kind that shows expertise. `singular`/`plural` are msgids taking %(num)d, e.g.
    "wrote %(num)d post on it"; `weight` scales it (an accepted answer says more than a post). `searched` is
    false for evidence that is not a search kind but derived from the matches (see `register_derived_evidence`)."""

    kind: str
    singular: str
    plural: str
    weight: float = 1.0
    searched: bool = True


EVIDENCE: dict[str, EvidenceKind] = {}
# The content matches of one skill: kind → {id: (author id, score relative to the best match)}.
ContentHits = dict[str, dict[int, tuple[int | None, float]]]
# {author: {evidence kind: (count, summed relative score)}}
ByAuthor = dict[int, dict[str, tuple[int, float]]]
DerivedEvidence = Callable[[AsyncSession, Principal, ContentHits], Awaitable[ByAuthor]]
DERIVED: dict[str, DerivedEvidence] = {}


def register_evidence(kind: EvidenceKind) -> EvidenceKind:
    EVIDENCE[kind.kind] = kind
    return kind


def register_derived_evidence(kind: EvidenceKind, derive: DerivedEvidence) -> EvidenceKind:
    """Evidence a module derives from the content matches of a skill, in the database, as the asker: e.g. the
    accepted answers to the questions that match. `derive` must only count what the principal may read."""
    register_evidence(kind)
    DERIVED[kind.kind] = derive
    return kind


@dataclass
class ExpertQuery:
    q: str = ""
    location: str | None = None
    department: str | None = None
    language: str | None = None
    audience: str = "all"
    near: bool = False
    limit: int = 20


@dataclass
class TagEvidence:
    key: str
    label: str
    self_tagged: bool
    colleagues: int
    match: str  # exact | word | contains


@dataclass
class Evidence:
    score: float = 0.0
    tags: dict[str, TagEvidence] = field(default_factory=dict)
    content: dict[str, int] = field(default_factory=dict)
    profile: bool = False

    def as_json(self) -> dict:
        """What a saved team keeps, to show the evidence again in any reader's language."""
        return {"tags": [[t.key, t.label, t.self_tagged, t.colleagues, t.match] for t in self.tags.values()],
                "content": self.content, "profile": self.profile}

    @classmethod
    def from_json(cls, data: dict) -> Evidence:
        return cls(tags={t[0]: TagEvidence(*t) for t in data.get("tags", [])}, content=data.get("content", {}),
                   profile=data.get("profile", False))

    def lines(self) -> list[str]:
        """The evidence in words, in the reader's language."""
        out = []
        for t in sorted(self.tags.values(), key=lambda t: (-t.colleagues, t.label)):
            if t.colleagues and t.self_tagged:
                out.append(ngettext("tagged “%(tag)s” by themselves and %(num)d colleague",
                                    "tagged “%(tag)s” by themselves and %(num)d colleagues",
                                    t.colleagues) % {"tag": t.label, "num": t.colleagues})
            elif t.colleagues:
                out.append(ngettext("tagged “%(tag)s” by %(num)d colleague", "tagged “%(tag)s” by %(num)d colleagues",
                                    t.colleagues) % {"tag": t.label, "num": t.colleagues})
            elif t.self_tagged:
                out.append(gettext("tagged themselves “%(tag)s”") % {"tag": t.label})
        for kind, count in sorted(self.content.items(), key=lambda kc: -kc[1]):
            ev = EVIDENCE.get(kind)
            if ev:
                out.append(ngettext(ev.singular, ev.plural, count) % {"num": count})
        if self.profile:
            out.append(gettext("mentions it in their profile"))
        return out


@dataclass
class Expert:
    person: Person
    score: float
    evidence: Evidence
    # Per skill asked about, for the team builder.
    by_skill: dict[str, Evidence] = field(default_factory=dict)


def split_skills(q: str) -> list[str]:
    """The skills a query names, each once (by tag key: 預拌混凝土 and 预拌混凝土 are one skill)."""
    skills: list[str] = []
    keys: set[str] = set()  # of the skills kept (folding costs ~0.2 ms: once a part, not once a pair)
    for part in _SKILL_SPLIT.split(q[:MAX_QUERY * 4]):
        part = " ".join(part.split())
        if part and (key := tags.tag_key(part)) not in keys:
            skills.append(part[:MAX_QUERY])
            keys.add(key if len(part) <= MAX_QUERY else tags.tag_key(skills[-1]))
    return skills


def validate(query: ExpertQuery, *, skills_field: str = "q") -> list[str]:
    errors: list[FieldError] = []
    skills = split_skills(query.q)
    if len(query.q) > MAX_QUERY * 4:
        errors.append(FieldError(skills_field, N_("must be at most {n} characters"), {"n": MAX_QUERY * 4}))
    elif len(skills) > MAX_SKILLS:
        errors.append(FieldError(skills_field, N_("may name at most {n} skills"), {"n": MAX_SKILLS}))
    for name in ("q", "location", "department", "language"):
        value = getattr(query, name)
        if value and textkit.has_control_chars(value):
            errors.append(FieldError(skills_field if name == "q" else name,
                                     N_("must not contain control characters")))
    if query.audience not in AUDIENCES:
        errors.append(FieldError("audience", N_("must be one of {values}"), {"values": ", ".join(AUDIENCES)}))
    if not 1 <= query.limit <= 100:
        errors.append(FieldError("limit", N_("must be between 1 and {n}"), {"n": 100}))
    if errors:
        raise ValidationFailed(errors)
    return skills


def _person_filters(principal: Principal, query: ExpertQuery) -> list[ColumnElement[bool]]:
    filters = [Person.deactivated_at.is_(None), people.readable_clause(principal)]
    if query.location:
        filters.append(Person.location == query.location)
    if query.department:
        filters.append(Person.department == query.department)
    if query.language:
        filters.append(Person.languages.contains([query.language]))
    if query.audience == "employees":
        filters.append(Person.role != Role.GUEST.value)
    elif query.audience == "guests":
        filters.append(Person.role == Role.GUEST.value)
    return filters


async def match_tags(db: AsyncSession, skills: list[str]) -> dict[str, dict[int, tuple[Tag, str]]]:
    """{skill: {tag id: (tag, how it matches)}}: the tag a skill names (or what it is a synonym of), tags naming a
    word of the skill, and the most held tags containing it. The keys and words of every skill are resolved in
    one statement, not one per skill: the team builder asks about up to twelve."""
    keys = {skill: tags.tag_key(skill) for skill in skills}
    words = {skill: [w for w in dict.fromkeys(textkit.analyse(key, normalised=True).words + key.split())
                     if w != key and (len(w) >= 2 or textkit.has_han(w)) and w not in _STOPWORDS]
             for skill, key in keys.items()}
    completing = [skill for skill, key in keys.items() if len(key) >= 2]
    completed = dict(zip(completing, await tags.autocomplete_many(db, [keys[s] for s in completing],
                                                                  limit=RELATED_TAGS), strict=True))
    containing = {skill: [s.key for s in completed.get(skill, ()) if s.key != key and key in s.key]
                  for skill, key in keys.items()}
    wanted = [*keys.values(), *(w for ws in words.values() for w in ws), *(k for ks in containing.values() for k in ks)]
    resolved = await tags.resolve_many(db, list(dict.fromkeys(wanted)))
    found: dict[str, dict[int, tuple[Tag, str]]] = {}
    for skill, key in keys.items():
        matched: dict[int, tuple[Tag, str]] = {}
        for how, named in (("exact", [key]), ("word", words[skill]), ("contains", containing[skill])):
            for name in named:
                if name in resolved:
                    matched.setdefault(resolved[name].id, (resolved[name], how))
        found[skill] = matched
    return found


_STOPWORDS = frozenset({"and", "or", "the", "of", "in", "for", "with", "的", "和", "与"})


def _recency(last_at: dt.datetime, now: dt.datetime) -> float:
    """1 for a tag given today, falling towards 0.6 over a few years: old tags still count, newer ones more."""
    years = max((now - last_at).days, 0) / 365
    return 0.6 + 0.4 * 0.5 ** years


class _Holder(NamedTuple):
    person_id: int
    tag_id: int
    self_tagged: bool
    colleagues: int
    strength: float
    last_at: dt.datetime
    department: str | None
    sort_key: str


async def _tag_evidence(db: AsyncSession, filters: list, matched: dict[int, tuple[Tag, str]]) -> list[_Holder]:
    """The strongest holders of each matched tag among the people the filters allow, with what ranking them
    needs of the person (department, sort key): one statement. `NOT hidden`
    as the partial index says it (`hidden IS false` is not recognised as implying it, and reads every row).
    Run as Core rather than through the ORM session, and read into named tuples: an 8-skill team reads ~2,400 rows,
    and the ORM's handling of them cost about as much again as the query (~8 ms)."""
    if not matched:
        return []
    ids = list(matched)
    limits = [PER_TAG[how] for _tag, how in matched.values()]
    wanted = func.unnest(cast(ids, ARRAY(BigInteger)), cast(limits, ARRAY(Integer))).table_valued(
        "id", "n").render_derived(name="wanted")
    strongest = (
        select(PersonTag.person_id, PersonTag.tag_id, PersonTag.self_tagged, PersonTag.colleagues,
               PersonTag.strength, PersonTag.last_at, Person.department, Person.sort_key)
        .join(Person, Person.id == PersonTag.person_id)
        .where(PersonTag.tag_id == wanted.c.id, ~PersonTag.hidden, *filters)
        .order_by(PersonTag.strength.desc()).limit(wanted.c.n).lateral("strongest")
    )
    result = await (await db.connection()).execute(select(strongest).select_from(wanted).join(strongest, true()))
    return [_Holder(*row) for row in result.all()]


@dataclass
class _IndexEvidence:
    """What the search index says about one skill: the matching content (per kind: item → author, relative
    score), and people whose profile may mention it."""

    hits: ContentHits = field(default_factory=dict)
    profiles: set[int] = field(default_factory=set)


def _search_index(backend: SearchBackend, phrases: list[str], keys: frozenset[str], private_text: bool,
                  kinds: list[str]) -> _IndexEvidence:
    """The index's evidence for one skill, from any of its phrases (the skill as asked, and the name of the tag it
    means: "ready-mix concrete" also finds posts on 預拌混凝土). Runs in a thread: Tantivy releases the GIL."""
    found = _IndexEvidence()
    queries = {tuple(parsed.must): parsed for parsed in map(parse, phrases) if not parsed.empty}
    # Content: each matching item once, with its author and its best score relative to its phrase's top match.
    best: dict[tuple[str, int], tuple[int | None, float]] = {}
    for parsed in queries.values() if kinds else ():
        hits = backend.search(QuerySpec(must=parsed.must, must_not=[], filters=Filters(kinds=kinds), visibility=keys,
                                        private_text=private_text, limit=CONTENT_HITS, facets=False, count=False,
                                        fuzzy_names=False, with_authors=True)).hits
        top = max((h.score for h in hits), default=0.0) or 1.0
        for hit in hits:
            relative = hit.score / top
            if relative > best.get((hit.kind, hit.id), (None, 0.0))[1]:
                best[(hit.kind, hit.id)] = (hit.author_id, relative)
    hits: ContentHits = defaultdict(dict)
    for (kind, item_id), best_found in best.items():
        hits[kind][item_id] = best_found
    found.hits = dict(hits)
    # Profiles: people whose title or "about me" the index matches (confirmed on the text afterwards).
    for parsed in queries.values():
        found.profiles |= {h.id for h in backend.search(QuerySpec(
            must=parsed.must, must_not=[], filters=Filters(kinds=["person"]), visibility=keys,
            private_text=private_text, limit=PROFILE_HITS, facets=False, count=False, fuzzy_names=False)).hits}
    return found


def _per_author(hits: ContentHits) -> ByAuthor:
    """{author: {kind: (matches, summed relative score)}}."""
    by_author: ByAuthor = defaultdict(dict)
    for kind, found in hits.items():
        for author, relative in found.values():
            if author is None:
                continue
            count, weight = by_author[author].get(kind, (0, 0.0))
            by_author[author][kind] = (count + 1, weight + relative)
    return by_author


async def _content_evidence(db: AsyncSession, principal: Principal, hits: ContentHits) -> ByAuthor:
    """Matches of the searched evidence kinds per author, plus what registered modules derive from them (accepted
    answers, re-checked against what the asker may read)."""
    by_author = _per_author(hits)
    for kind, derive in DERIVED.items():
        if kind in EVIDENCE and hits:
            for author, derived in (await derive(db, principal, hits)).items():
                by_author[author].update(derived)
    return by_author


@dataclass
class Scored:
    """A person's score and evidence per skill, before their profile is loaded (`rank` loads it; the team builder
    loads only the few people it shows)."""

    person_id: int
    score: float
    by_skill: dict[str, Evidence]


async def rank(db: AsyncSession, principal: Principal, backend: SearchBackend | None, query: ExpertQuery,
               skills: list[str], *, limit: int) -> list[Expert]:
    """The best `limit` people for these skills (validated), with evidence per skill."""
    scored = await score(db, principal, backend, query, skills, limit=limit)
    people = await load_people(db, [s.person_id for s in scored])
    experts = []
    for s in scored:
        total = merge_evidence(s.by_skill.values())
        total.score = s.score
        experts.append(Expert(person=people[s.person_id], score=s.score, evidence=total, by_skill=s.by_skill))
    return experts


async def score(db: AsyncSession, principal: Principal, backend: SearchBackend | None, query: ExpertQuery,
                skills: list[str], *, limit: int) -> list[Scored]:
    """The best `limit` people for these skills (validated), best first, with evidence per skill."""
    load_all()  # every module's evidence kinds
    filters = _person_filters(principal, query)
    now = utcnow()
    matches = await match_tags(db, skills)
    phrases = {skill: list(dict.fromkeys([skill] + [tag.label for tag, how in matches[skill].values()
                                                    if how == "exact"])) for skill in skills}
    private_text = not principal.is_guest
    searching = None
    if backend is not None:
        keys = await registry.principal_keys(db, principal)
        # Every skill's index searches at once, in threads, while PostgreSQL reads the tag evidence.
        searched = [kind for kind, evidence in EVIDENCE.items() if evidence.searched]
        searching = asyncio.gather(*(asyncio.to_thread(_search_index, backend, phrases[skill], keys, private_text,
                                                       searched) for skill in skills))
    every_tag = {tag_id: hit for found in matches.values() for tag_id, hit in found.items()}
    rows = await _tag_evidence(db, filters, every_tag)
    index = dict(zip(skills, await searching, strict=True)) if searching is not None else {}
    mentions = await _profile_mentions(db, {skill: (phrases[skill], index[skill].profiles) for skill in index},
                                       private_text)

    holders = defaultdict(list)
    for row in rows:
        holders[row.tag_id].append(row)
    # Scores first, as plain numbers: an 8-skill team weighs ~3,300 (person, skill) pairs, of which the best 240
    # are kept. The evidence in words is put together afterwards for those only (see _evidence).
    per_skill: dict[str, dict[int, float]] = {}
    content: dict[str, ByAuthor] = {}
    totals: dict[int, float] = {}
    for skill in skills:
        scores = per_skill[skill] = {}
        for tag_id, (_tag, how) in matches[skill].items():
            match_weight = MATCH_WEIGHTS[how]
            for row in holders[tag_id]:
                scores[row.person_id] = (scores.get(row.person_id, 0.0)
                                         + match_weight * row.strength * _recency(row.last_at, now))
        content[skill] = await _content_evidence(db, principal, index[skill].hits) if skill in index else {}
        for author, kinds in content[skill].items():
            value = scores.get(author, 0.0)
            for kind, (_count, weight) in kinds.items():
                value += CONTENT_WEIGHT * EVIDENCE[kind].weight * math.log2(1 + weight)
            scores[author] = value
        for person_id in mentions.get(skill, ()):
            scores[person_id] = scores.get(person_id, 0.0) + PROFILE_WEIGHT
        for person_id, value in scores.items():  # skill by skill, as merge_evidence adds them up
            totals[person_id] = totals.get(person_id, 0) + value

    near_department = await _asker_department(db, principal) if query.near else None
    # Tag holders passed the filters in SQL, and come with their department and sort key.
    known = {row.person_id: (row.department, row.sort_key) for row in rows}
    best = await _best(db, filters, totals, known, limit, near_department)
    kept = {person_id for *_, person_id in best}
    evidence = {skill: _evidence(kept, per_skill[skill], matches[skill], holders, content[skill],
                                 mentions.get(skill, ())) for skill in skills}
    return [Scored(person_id, -negative, {s: evidence[s][person_id] for s in skills if person_id in evidence[s]})
            for negative, _sort_key, person_id in best]


def _evidence(people: set[int], scores: dict[int, float], matches: dict[int, tuple[Tag, str]],
              holders: dict[int, list[_Holder]], content: ByAuthor, mentions: list[int]) -> dict[int, Evidence]:
    """One skill's evidence of each of these people (in the order `score` weighed it), with its score."""
    found: dict[int, Evidence] = {}

    def of(person_id: int) -> Evidence:
        if person_id not in found:
            found[person_id] = Evidence(score=scores[person_id])
        return found[person_id]

    for tag_id, (tag, how) in matches.items():
        for row in holders[tag_id]:
            if row.person_id in people:
                of(row.person_id).tags[tag.key] = TagEvidence(tag.key, tag.label, row.self_tagged, row.colleagues, how)
    for author, kinds in content.items():
        if author in people:
            of(author).content = {kind: count for kind, (count, _weight) in kinds.items()}
    for person_id in mentions:
        if person_id in people:
            of(person_id).profile = True
    return found


async def _best(db: AsyncSession, filters: list, totals: dict[int, float], known: dict[int, tuple[str | None, str]],
                limit: int, near_department: str | None) -> list[tuple[float, str, int]]:
    """The best `limit` candidates the filters allow, as (-score, sort key, person), best first (ties in directory
    order). `known` holds people who passed the filters already (tag holders), with their department and sort key.
    The others (known only from content or profiles: thousands for a common skill) are checked on two columns, in
    order of score a batch at a time, until nobody left could still make the top: checking them all cost more
    than the rest of the ranking."""
    boost = NEAR_BOOST if near_department else 1.0
    order = sorted(totals, key=totals.__getitem__, reverse=True)
    allowed: list[tuple[float, str, int]] = []
    start, batch = 0, 2 * limit
    while start < len(order):
        chunk = order[start:start + batch]
        start, batch = start + len(chunk), batch * 2
        unknown = [p for p in chunk if p not in known]
        if unknown:
            known.update((r.id, (r.department, r.sort_key)) for r in await db.execute(
                select(Person.id, Person.department, Person.sort_key).where(one_of(Person.id, unknown), *filters)))
        for person_id in chunk:
            if person_id in known:
                department, sort_key = known[person_id]
                score = totals[person_id]
                if near_department and department == near_department:
                    score *= NEAR_BOOST
                allowed.append((-score, sort_key, person_id))
        # Done once the limit-th best so far beats whatever the next (and so any later) candidate could score.
        if len(allowed) >= limit and start < len(order) and \
                totals[order[start]] * boost < -heapq.nsmallest(limit, allowed)[-1][0]:
            break
    allowed.sort()
    return allowed[:limit]


async def load_people(db: AsyncSession, ids: list[int]) -> dict[int, Person]:
    return {p.id: p for p in await db.scalars(select(Person).where(one_of(Person.id, ids)))} if ids else {}


def merge_evidence(evidences) -> Evidence:
    total = Evidence()
    for ev in evidences:
        total.score += ev.score
        total.tags.update(ev.tags)
        for kind, count in ev.content.items():
            total.content[kind] = max(total.content.get(kind, 0), count)
        total.profile = total.profile or ev.profile
    return total


async def _profile_mentions(db: AsyncSession, found: dict[str, tuple[list[str], set[int]]],
                            private_text: bool) -> dict[str, list[int]]:
    """{skill: people whose title or "about me" contains one of its phrases}, from {skill: (phrases, the people
    the index matched)}: confirmed on the text, every skill's people read in one statement."""
    ids = {p for _phrases, people_ids in found.values() for p in people_ids}
    if not ids:
        return {}
    rows = (await db.execute(select(Person.id, Person.title, Person.about_md, Person.guest_hidden)
                             .where(one_of(Person.id, list(ids))))).all()
    said = {}
    for r in rows:
        about = r.about_md if private_text or "about_md" not in (r.guest_hidden or ()) else ""
        said[r.id] = tags.tag_key(f"{r.title or ''} {about or ''}")
    mentions = {}
    for skill, (phrases, people_ids) in found.items():
        wanted = [tags.tag_key(p) for p in phrases]
        mentions[skill] = [p for p in people_ids if p in said and any(key in said[p] for key in wanted)]
    return mentions


async def _asker_department(db: AsyncSession, principal: Principal) -> str | None:
    return await db.scalar(select(Person.department).where(Person.id == principal.person_id))


async def find_experts(db: AsyncSession, principal: Principal, backend: SearchBackend | None,
                       query: ExpertQuery) -> list[Expert]:
    """People who know about `query.q`, best first, each with the evidence that ranked them."""
    require(principal, Permission.EXPERTISE_READ)
    skills = validate(query)
    if not skills:
        return []
    return await rank(db, principal, backend, query, skills, limit=query.limit)
