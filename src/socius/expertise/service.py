"""Profile tags: a person tags themselves, colleagues tag them, a second colleague giving a tag endorses it.

Every spelling of a tag folds to one key through the search text pipeline (NFKC, case, width, Traditional →
Simplified with Taiwan phrases; `core.text.normalise_term`), so 預拌混凝土, 预拌混凝土 and ＰＹＴＨＯＮ / python are
one tag each, and so are 嵌入式韌體, 嵌入式韧体 and 嵌入式固件; the tag's
label is its most used spelling. `tag_assignment` keeps who gave what; `person_tag` sums it per person and tag
(self-tagged, how many colleagues, hidden) for the expert finder, recomputed in SQL after every change.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from urllib.parse import quote

from sqlalchemy import delete, func, insert, literal_column, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from socius.admin import service as audit
from socius.core import text as textkit
from socius.core.auth import Principal
from socius.core.authz import Permission, require
from socius.core.db import insert_rows, one_of, utcnow
from socius.core.errors import Conflict, NotFound, PermissionDenied, RateLimited, ValidationFailed
from socius.core.i18n import N_
from socius.expertise.models import PersonTag, Tag, TagAssignment, TagSpelling, TagTerm
from socius.notifications import service as notifications
from socius.people import service as people
from socius.people.models import Person

MAX_LABEL = 50
MAX_TERMS = 40
# Evidence a person-tag carries: tagging oneself says less than several colleagues agreeing.
SELF_WEIGHT = 2.0
COLLEAGUE_WEIGHT = 1.5
FORBIDDEN = re.compile(r"[<>,，、;；]")
_SPACES = re.compile(r"\s+")
_WORD_START = re.compile(r"(?:(?<=^)|(?<=[\s\-_/.&+]))\w", re.UNICODE)

STRENGTH_SQL = (f"CASE WHEN bool_or(tagger_id = person_id) THEN {SELF_WEIGHT} ELSE 0 END"
                f" + {COLLEAGUE_WEIGHT} * log(2, 1 + count(*) FILTER (WHERE tagger_id <> person_id))")


# --- what a tag is ---------------------------------------------------------------------------------------------

def tag_key(label: str) -> str:
    """The folded form every spelling of a tag shares."""
    return _SPACES.sub(" ", textkit.normalise_term(label)).strip()


def clean_label(raw: object, field_name: str = "tag") -> tuple[str, str]:
    """(label as typed, tidied; its key) or a ValidationFailed naming the field and the reason."""
    if not isinstance(raw, str):
        raise ValidationFailed.one(field_name, N_("must be text"))
    if textkit.has_control_chars(raw):
        raise ValidationFailed.one(field_name, N_("must not contain control characters"))
    label = _SPACES.sub(" ", raw).strip().lstrip("#").strip()
    if not label:
        raise ValidationFailed.one(field_name, N_("must not be empty"))
    if len(label) > MAX_LABEL:
        raise ValidationFailed.one(field_name, N_("must be at most {max} characters"), max=MAX_LABEL)
    if FORBIDDEN.search(label):
        raise ValidationFailed.one(field_name, N_("must not contain < > , or ;"))
    key = tag_key(label)
    if not any(ch.isalnum() for ch in key):
        raise ValidationFailed.one(field_name, N_("must contain a letter, a character or a digit"))
    return label, key


def terms_of(key: str) -> list[str]:
    """Suffixes of the key a typed prefix may match: from each word start and from each Han character."""
    starts = {m.start() for m in _WORD_START.finditer(key)}
    starts |= {i for i, ch in enumerate(key) if textkit.has_han(ch)}
    return [key[i:] for i in sorted(starts)][:MAX_TERMS]


async def resolve(db: AsyncSession, key: str) -> Tag | None:
    """The tag a key means now: a synonym or a merged tag leads to the tag it was merged into."""
    tag = await db.scalar(select(Tag).where(Tag.key == key))
    if tag is not None and tag.merged_into_id is not None:
        tag = await db.get(Tag, tag.merged_into_id)
    return tag


async def resolve_many(db: AsyncSession, keys: list[str]) -> dict[str, Tag]:
    """{key: the tag it means now} for the keys that name a tag."""
    if not keys:
        return {}
    rows = (await db.execute(select(Tag.key, Tag.merged_into_id, Tag).where(one_of(Tag.key, keys)))).all()
    targets = {t.id: t for t in await db.scalars(select(Tag).where(
        one_of(Tag.id, [r.merged_into_id for r in rows if r.merged_into_id])))} if any(
        r.merged_into_id for r in rows) else {}
    return {r.key: targets.get(r.merged_into_id, r.Tag) if r.merged_into_id else r.Tag for r in rows}


async def _tag_for(db: AsyncSession, label: str, key: str) -> Tag:
    """The tag for this key, created on first use."""
    tag = await resolve(db, key)
    if tag is not None:
        return tag
    tag_id = await db.scalar(pg_insert(Tag).values(key=key, label=label)
                             .on_conflict_do_nothing(index_elements=[Tag.key]).returning(Tag.id))
    if tag_id is None:  # someone created it meanwhile
        return await resolve(db, key)
    await db.execute(pg_insert(TagTerm).values([{"term": t, "tag_id": tag_id, "target_id": tag_id, "target_key": key,
                                                  "head": t == key} for t in terms_of(key)])
                     .on_conflict_do_nothing())
    return await db.get(Tag, tag_id)


async def _count_spelling(db: AsyncSession, tag: Tag, spelling: str, delta: int) -> None:
    """Count a spelling's use and relabel the tag if another spelling is now the most used. Only spellings of the
    tag's own key count: a synonym ("RMC" for 預拌混凝土) leads to the tag but never renames it."""
    if tag_key(spelling) != tag.key:
        return
    await db.execute(pg_insert(TagSpelling).values(tag_id=tag.id, spelling=spelling, uses=max(delta, 0))
                     .on_conflict_do_update(index_elements=[TagSpelling.tag_id, TagSpelling.spelling],
                                            set_={"uses": TagSpelling.uses + delta}))
    await _relabel(db, [tag.id])


async def _relabel(db: AsyncSession, tag_ids: list[int]) -> None:
    # A spelling takes the label only when strictly more used than the label's: ties keep the first spelling.
    await db.execute(text("""
        UPDATE tag SET label = best.spelling FROM (
            SELECT DISTINCT ON (tag_id) tag_id, spelling, uses FROM tag_spelling
            WHERE tag_id = ANY(:ids) AND uses > 0 ORDER BY tag_id, uses DESC, spelling
        ) best WHERE tag.id = best.tag_id AND tag.label <> best.spelling
          AND best.uses > coalesce((SELECT s.uses FROM tag_spelling s
                                    WHERE s.tag_id = tag.id AND s.spelling = tag.label), 0)"""), {"ids": tag_ids})


async def refresh_evidence(db: AsyncSession, pairs: list[tuple[int, int]], *, recount_tags: bool = True) -> None:
    """Recompute `person_tag` for these (person, tag) pairs from the assignments, and the tags' people counts."""
    if not pairs:
        return
    persons, tags = [p for p, _ in pairs], [t for _, t in pairs]
    params = {"persons": persons, "tags": tags}
    await db.execute(text(f"""
        INSERT INTO person_tag (person_id, tag_id, self_tagged, colleagues, strength, last_at)
        SELECT person_id, tag_id, bool_or(tagger_id = person_id),
               count(*) FILTER (WHERE tagger_id <> person_id), {STRENGTH_SQL}, max(created_at)
        FROM tag_assignment
        WHERE (person_id, tag_id) IN (SELECT * FROM unnest(CAST(:persons AS bigint[]), CAST(:tags AS bigint[])))
        GROUP BY person_id, tag_id
        ON CONFLICT (person_id, tag_id) DO UPDATE SET self_tagged = excluded.self_tagged,
            colleagues = excluded.colleagues, strength = excluded.strength, last_at = excluded.last_at"""), params)
    await db.execute(text("""
        DELETE FROM person_tag pt
        WHERE (pt.person_id, pt.tag_id) IN (SELECT * FROM unnest(CAST(:persons AS bigint[]), CAST(:tags AS bigint[])))
          AND NOT EXISTS (SELECT 1 FROM tag_assignment a WHERE a.person_id = pt.person_id AND a.tag_id = pt.tag_id)
    """), params)
    if recount_tags:
        await recount(db, sorted(set(tags)))


async def recount(db: AsyncSession, tag_ids: list[int]) -> None:
    await db.execute(text("""
        UPDATE tag SET people_count = (SELECT count(*) FROM person_tag pt WHERE pt.tag_id = tag.id AND NOT pt.hidden)
        WHERE id = ANY(:ids)"""), {"ids": tag_ids})
    await sync_terms(db, tag_ids)


async def sync_terms(db: AsyncSession, tag_ids: list[int]) -> None:
    """Copy into the terms of these tags, and of their synonyms, what autocomplete ranks by: the tag each term
    leads to, its key and people count, and whether the term is a whole key. Unchanged rows are not rewritten."""
    await db.execute(text("""
        UPDATE tag_term m SET target_id = t.id, target_key = t.key, people_count = t.people_count,
                              head = (m.term = s.key OR m.term = t.key)
        FROM tag s JOIN tag t ON t.id = coalesce(s.merged_into_id, s.id)
        WHERE m.tag_id = s.id
          AND s.id IN (SELECT id FROM tag WHERE id = ANY(:ids)
                       UNION ALL SELECT id FROM tag WHERE merged_into_id = ANY(:ids))
          AND (m.target_id, m.target_key, m.people_count, m.head)
              IS DISTINCT FROM (t.id, t.key, t.people_count, m.term = s.key OR m.term = t.key)"""), {"ids": tag_ids})


# --- tagging ---------------------------------------------------------------------------------------------------

async def _target(db: AsyncSession, principal: Principal, person_id: int) -> Person:
    person = await people.get_person(db, principal, person_id)
    if not person.is_active:
        raise ValidationFailed.one("person", N_("is deactivated: their tags can no longer change"))
    return person


async def _check_rate(db: AsyncSession, principal: Principal, per_hour: int) -> None:
    since = utcnow() - dt.timedelta(hours=1)
    given = await db.scalar(select(func.count()).select_from(TagAssignment).where(
        TagAssignment.tagger_id == principal.person_id, TagAssignment.created_at > since))
    if given >= per_hour:
        raise RateLimited(N_("You have tagged a lot in the last hour. Please wait a while before tagging again."))


async def add_tag(db: AsyncSession, principal: Principal, person_id: int, raw: object, *, per_hour: int,
                  ip: str = "") -> Tag:
    """Give a tag to a person (oneself included). Giving a tag someone already has endorses it."""
    label, key = clean_label(raw)
    person = await _target(db, principal, person_id)
    if principal.is_guest and person.id != principal.person_id:
        raise PermissionDenied(N_("Guests can tag only themselves."))
    await _check_rate(db, principal, per_hour)
    tag = await _tag_for(db, label, key)
    existing = await db.scalar(select(PersonTag).where(PersonTag.person_id == person.id, PersonTag.tag_id == tag.id))
    inserted = await db.scalar(pg_insert(TagAssignment).values(
        person_id=person.id, tag_id=tag.id, tagger_id=principal.person_id, spelling=label,
    ).on_conflict_do_nothing().returning(TagAssignment.tag_id))
    if inserted is None:
        message = (N_("You have already tagged yourself with this tag.") if person.id == principal.person_id
                   else N_("You have already given this tag to this person."))
        raise Conflict(message)
    await _count_spelling(db, tag, label, 1)
    await refresh_evidence(db, [(person.id, tag.id)])
    await notifications.notify(db, person.id, "endorsed" if existing else "tagged", actor_id=principal.person_id,
                               url=f"/people/{person.id}#tags", tag=tag.label, key=tag.key)
    await audit.record(db, principal, "tag.give", "person", person.id, new={"tag": tag.key, "spelling": label},
                       ip=ip)
    return tag


async def remove_tag(db: AsyncSession, principal: Principal, person_id: int, key: str, *, ip: str = "") -> None:
    """Take back a tag one gave (a self tag, or an endorsement of a colleague)."""
    person = await people.get_person(db, principal, person_id)
    tag = await resolve(db, tag_key(key))
    removed = None
    if tag is not None:
        removed = await db.scalar(delete(TagAssignment).where(
            TagAssignment.person_id == person.id, TagAssignment.tag_id == tag.id,
            TagAssignment.tagger_id == principal.person_id).returning(TagAssignment.spelling))
    if removed is None:
        raise NotFound(N_("You have not given this tag to this person."))
    await _count_spelling(db, tag, removed, -1)
    await refresh_evidence(db, [(person.id, tag.id)])
    await audit.record(db, principal, "tag.take_back", "person", person.id, old={"tag": tag.key}, ip=ip)


async def set_hidden(db: AsyncSession, principal: Principal, person_id: int, key: str, hidden: bool, *,
                     ip: str = "") -> None:
    """The owner hides a tag (it stops counting anywhere) or shows it again; its endorsements are kept."""
    person = await people.get_editable_person(db, principal, person_id)
    tag = await resolve(db, tag_key(key))
    changed = None
    if tag is not None:
        changed = await db.scalar(update(PersonTag).where(
            PersonTag.person_id == person.id, PersonTag.tag_id == tag.id).values(hidden=hidden)
            .returning(PersonTag.tag_id))
    if changed is None:
        raise NotFound(N_("This person does not have this tag."))
    await recount(db, [tag.id])
    await audit.record(db, principal, "tag.hide" if hidden else "tag.show", "person", person.id,
                       new={"tag": tag.key}, ip=ip)


# --- reading ---------------------------------------------------------------------------------------------------

@dataclass
class ProfileTag:
    key: str
    label: str
    self_tagged: bool
    colleagues: int
    hidden: bool
    mine: bool  # the reader gave it
    given_by: list[Person] = field(default_factory=list)

    @property
    def count(self) -> int:
        return self.colleagues + (1 if self.self_tagged else 0)


async def profile_tags(db: AsyncSession, principal: Principal, person: Person) -> list[ProfileTag]:
    """A person's tags, strongest first, with who gave them (the people the reader may see). Hidden tags are
    shown to their owner (and administrators) only."""
    owner_view = people.can_edit(principal, person)
    query = (select(PersonTag, Tag).join(Tag, Tag.id == PersonTag.tag_id)
             .where(PersonTag.person_id == person.id)
             .order_by(PersonTag.hidden, PersonTag.strength.desc(), Tag.label))
    if not owner_view:
        query = query.where(~PersonTag.hidden)
    rows = (await db.execute(query)).all()
    if not rows:
        return []
    givers = (await db.execute(
        select(TagAssignment.tag_id, Person).join(Person, Person.id == TagAssignment.tagger_id)
        .where(TagAssignment.person_id == person.id, people.readable_clause(principal))
        .order_by(TagAssignment.created_at))).all()
    by_tag: dict[int, list[Person]] = {}
    for tag_id, giver in givers:
        by_tag.setdefault(tag_id, []).append(giver)
    shown = []
    for pt, tag in rows:
        given = by_tag.get(tag.id, [])
        shown.append(ProfileTag(
            key=tag.key, label=tag.label, self_tagged=pt.self_tagged, colleagues=pt.colleagues, hidden=pt.hidden,
            mine=any(g.id == principal.person_id for g in given), given_by=given))
    return shown


@dataclass
class Suggestion:
    key: str
    label: str
    people: int


async def autocomplete(db: AsyncSession, prefix: str, limit: int = 10) -> list[Suggestion]:
    """Tags a typed prefix may mean: ones that start with it first, then ones with a word starting with it;
    the most held first. Synonyms lead to their tag."""
    return (await autocomplete_many(db, [prefix], limit))[0]


# Ranked on the terms' own copies of the tag they lead to (an index-only scan, however many terms match); the tag
# is read for the few returned. One branch a prefix, each with its own literal pattern so the planner can use the
# index on `term` for it.
_SUGGEST = """(
    SELECT {n} AS n, t.key, t.label, t.people_count, best.rank, best.people, best.target_key FROM (
        SELECT target_id, target_key, max(people_count) AS people, min(CASE WHEN head THEN 0 ELSE 1 END) AS rank
        FROM tag_term WHERE term LIKE :pattern{n}
        GROUP BY target_id, target_key
        ORDER BY rank, people DESC, target_key
        LIMIT :limit) best
    JOIN tag t ON t.id = best.target_id)"""


async def autocomplete_many(db: AsyncSession, prefixes: list[str], limit: int = 10) -> list[list[Suggestion]]:
    """`autocomplete` of each prefix, in one statement (the expert finder completes every skill of a query)."""
    keys = [tag_key(prefix)[:MAX_LABEL * 2] for prefix in prefixes]
    found: list[list[Suggestion]] = [[] for _ in prefixes]
    asked = [n for n, key in enumerate(keys) if key]
    if not asked:
        return found
    statement = " UNION ALL ".join(_SUGGEST.format(n=n) for n in asked) + " ORDER BY n, rank, people DESC, target_key"
    patterns = {f"pattern{n}": keys[n].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
                for n in asked}
    for r in await db.execute(text(statement), {**patterns, "limit": limit}):
        found[r.n].append(Suggestion(key=r.key, label=r.label, people=r.people_count))
    return found


# --- administration: synonyms and merges -----------------------------------------------------------------------

async def merge(db: AsyncSession, principal: Principal, source_key: str, target_key: str, *, ip: str = "") -> Tag:
    """Merge one tag into another: every assignment moves (one person's endorsement given under both tags counts
    once) and the old key becomes a synonym that leads to the target from now on; the target keeps its label."""
    require(principal, Permission.TAGS_ADMINISTER)
    source, target = await resolve(db, tag_key(source_key)), await resolve(db, tag_key(target_key))
    if source is None:
        raise ValidationFailed.one("source", N_("is not a tag"))
    if target is None:
        raise ValidationFailed.one("target", N_("is not a tag"))
    if source.id == target.id:
        raise ValidationFailed.one("target", N_("is the same tag"))
    await _fold_into(db, source, target)
    await audit.record(db, principal, "tag.merge", "tag", target.id, old={"tag": source.key},
                       new={"tag": target.key}, ip=ip)
    return target


async def add_synonym(db: AsyncSession, principal: Principal, target_key: str, raw: object, *,
                      ip: str = "") -> Tag:
    """Make another spelling mean this tag (an existing tag of that name is merged into it)."""
    require(principal, Permission.TAGS_ADMINISTER)
    target = await resolve(db, tag_key(target_key))
    if target is None:
        raise NotFound()
    label, key = clean_label(raw, "synonym")
    await make_synonym(db, target, label, key)
    await audit.record(db, principal, "tag.synonym", "tag", target.id, new={"synonym": key}, ip=ip)
    return target


async def make_synonym(db: AsyncSession, target: Tag, label: str, key: str) -> None:
    existing = await resolve(db, key)
    if existing is not None and existing.id == target.id:
        raise ValidationFailed.one("synonym", N_("already means this tag"))
    if existing is not None:
        await _fold_into(db, existing, target)
    else:
        synonym_id = await db.scalar(insert(Tag).values(key=key, label=label, merged_into_id=target.id)
                                     .returning(Tag.id))
        await db.execute(pg_insert(TagTerm).values([{"term": t, "tag_id": synonym_id, "target_id": target.id,
                                                      "target_key": target.key} for t in terms_of(key)])
                         .on_conflict_do_nothing())
        await sync_terms(db, [synonym_id])


async def _fold_into(db: AsyncSession, source: Tag, target: Tag) -> None:
    moved = (await db.execute(text("""
        WITH gone AS (DELETE FROM tag_assignment WHERE tag_id = :source RETURNING *)
        INSERT INTO tag_assignment (person_id, tag_id, tagger_id, spelling, created_at)
        SELECT person_id, :target, tagger_id, spelling, created_at FROM gone
        ON CONFLICT (person_id, tag_id, tagger_id) DO NOTHING
        RETURNING person_id"""), {"source": source.id, "target": target.id})).scalars().all()
    # The target's hidden flags stand; a source tag hidden by its owner stays hidden under the target.
    await db.execute(text("""
        INSERT INTO person_tag (person_id, tag_id, hidden)
        SELECT person_id, :target, hidden FROM person_tag WHERE tag_id = :source AND hidden
        ON CONFLICT (person_id, tag_id) DO NOTHING"""), {"source": source.id, "target": target.id})
    holders = set(moved) | set((await db.scalars(select(PersonTag.person_id).where(
        PersonTag.tag_id == source.id))).all())
    await db.execute(delete(PersonTag).where(PersonTag.tag_id == source.id))
    # The source's spellings stay with it: as a synonym it leads to the target without renaming it.
    await db.execute(text("""
        INSERT INTO tag_term (term, tag_id, target_id, target_key)
        SELECT term, :target, :target, :target_key FROM tag_term WHERE tag_id = :source
        ON CONFLICT DO NOTHING"""), {"source": source.id, "target": target.id, "target_key": target.key})
    await db.execute(delete(TagTerm).where(TagTerm.tag_id == source.id))
    await db.execute(update(Tag).where(Tag.merged_into_id == source.id).values(merged_into_id=target.id))
    await db.execute(update(Tag).where(Tag.id == source.id).values(merged_into_id=target.id, people_count=0))
    await refresh_evidence(db, [(p, target.id) for p in sorted(holders)])
    await sync_terms(db, [target.id])  # the moved terms, and the source's synonyms now leading here
    await db.refresh(target)


async def synonyms_of(db: AsyncSession, tag: Tag) -> list[str]:
    return list((await db.scalars(select(Tag.label).where(Tag.merged_into_id == tag.id).order_by(Tag.key))).all())


async def holders(db: AsyncSession, principal: Principal, tag: Tag, *,
                  limit: int = 50) -> list[tuple[Person, PersonTag]]:
    """Active people with a tag, strongest evidence first, among the people the reader may see."""
    rows = (await db.execute(
        select(Person, PersonTag).join(PersonTag, PersonTag.person_id == Person.id)
        .where(PersonTag.tag_id == tag.id, ~PersonTag.hidden, Person.deactivated_at.is_(None),
               people.readable_clause(principal))
        .order_by(PersonTag.strength.desc(), Person.sort_key, Person.id).limit(limit))).all()
    return [(p, pt) for p, pt in rows]


async def related(db: AsyncSession, tag: Tag, holder_ids: list[int], *, limit: int = 12) -> list[Suggestion]:
    """Tags most often held by the same people (among the tag's strongest holders)."""
    if not holder_ids:
        return []
    rows = (await db.execute(
        select(Tag.key, Tag.label, func.count().label("n")).join(PersonTag, PersonTag.tag_id == Tag.id)
        .where(one_of(PersonTag.person_id, holder_ids), ~PersonTag.hidden, PersonTag.tag_id != tag.id)
        .group_by(Tag.id).order_by(literal_column("n").desc(), Tag.key).limit(limit))).all()
    return [Suggestion(key=r.key, label=r.label, people=r.n) for r in rows]


def tag_url(key: str) -> str:
    return f"/tags/{quote(key, safe='')}"



# --- skills coverage ---------------------------------------------------------------------------------------------

@dataclass
class Coverage:
    department: str | None
    below: int
    tags: list[Suggestion]  # most held first
    thin: list[Suggestion]  # held by fewer than `below` people, fewest first
    people: int  # active people in scope


async def coverage(db: AsyncSession, principal: Principal, *, department: str | None = None, below: int = 3,
                   limit: int = 100) -> Coverage:
    """How many active people hold each tag, company-wide or in one department, and the thinly held tags."""
    require(principal, Permission.EXPERTISE_READ)
    if department is not None and (len(department) > 200 or textkit.has_control_chars(department)):
        raise ValidationFailed.one("department", N_("is not a valid department"))
    if not 1 <= below <= 1000:
        raise ValidationFailed.one("below", N_("must be between 1 and {n}"), n=1000)
    scope = [Person.deactivated_at.is_(None)]
    if department:
        scope.append(Person.department == department)
    held = (select(PersonTag.tag_id, func.count().label("n")).join(Person, Person.id == PersonTag.person_id)
            .where(~PersonTag.hidden, *scope).group_by(PersonTag.tag_id).subquery())
    base = select(Tag.key, Tag.label, held.c.n).join(held, held.c.tag_id == Tag.id)
    most = (await db.execute(base.order_by(held.c.n.desc(), Tag.key).limit(limit))).all()
    thin = (await db.execute(base.where(held.c.n < below).order_by(held.c.n, Tag.key).limit(limit))).all()
    people_in_scope = await db.scalar(select(func.count()).select_from(Person).where(*scope)) or 0
    return Coverage(department=department, below=below, people=people_in_scope,
                    tags=[Suggestion(r.key, r.label, r.n) for r in most],
                    thin=[Suggestion(r.key, r.label, r.n) for r in thin])


# --- bulk import -------------------------------------------------------------------------------------------------

async def import_tags(db: AsyncSession, given: list[tuple[int, int, str]]) -> int:
    """Tags given in bulk, as (tagger, person, label): the demo company, benchmarks, a move from another system.
    The same rules as `add_tag` for keys, labels and evidence, set-based: no notifications, no audit entries, no
    rate limits. Invalid labels and repeats are skipped. Returns how many tags were given."""
    cleaned: dict[tuple[int, int, str], str] = {}
    for tagger, person, raw in given:
        try:
            label, key = clean_label(raw)
        except ValidationFailed:
            continue
        cleaned.setdefault((tagger, person, key), label)
    if not cleaned:
        return 0
    labels: dict[str, str] = {}
    for (_t, _p, key), label in cleaned.items():
        labels.setdefault(key, label)
    await db.execute(insert_rows(Tag.__table__, ("key", "label")).on_conflict_do_nothing(index_elements=["key"]),
                     {"rows": [{"key": k, "label": v} for k, v in labels.items()]})
    tags = await resolve_many(db, list(labels))
    # Counts and whole-key flags follow in `recount` below.
    new_terms = [{"term": t, "tag_id": tags[k].id, "target_id": tags[k].id, "target_key": tags[k].key}
                 for k in labels for t in terms_of(k)]
    for start in range(0, len(new_terms), 5000):
        await db.execute(insert_rows(TagTerm.__table__, ("term", "tag_id", "target_id", "target_key"))
                         .on_conflict_do_nothing(),
                         {"rows": new_terms[start:start + 5000]})
    rows = [{"person_id": p, "tag_id": tags[k].id, "tagger_id": t, "spelling": label}
            for (t, p, k), label in cleaned.items()]
    added = 0
    for start in range(0, len(rows), 5000):
        result = await db.execute(insert_rows(TagAssignment.__table__, ("person_id", "tag_id", "tagger_id", "spelling"))
                                  .on_conflict_do_nothing().returning(TagAssignment.tag_id),
                                  {"rows": rows[start:start + 5000]})
        added += len(result.all())
    spellings: dict[tuple[int, str], int] = {}
    for (_t, _p, key), label in cleaned.items():
        if tag_key(label) == tags[key].key:
            spellings[(tags[key].id, label)] = spellings.get((tags[key].id, label), 0) + 1
    await db.execute(text("""
        INSERT INTO tag_spelling (tag_id, spelling, uses)
        SELECT * FROM unnest(CAST(:ids AS bigint[]), CAST(:spellings AS text[]), CAST(:uses AS int[]))
        ON CONFLICT (tag_id, spelling) DO UPDATE SET uses = tag_spelling.uses + excluded.uses"""),
        {"ids": [i for i, _ in spellings], "spellings": [s for _, s in spellings], "uses": list(spellings.values())})
    tag_ids = sorted({t.id for t in tags.values()})
    await _relabel(db, tag_ids)
    pairs = sorted({(r["person_id"], r["tag_id"]) for r in rows})
    for start in range(0, len(pairs), 20000):
        await refresh_evidence(db, pairs[start:start + 20000], recount_tags=False)
    await recount(db, tag_ids)
    return added
