"""Fast synthetic seeding for benchmarks: hundreds of thousands of people through COPY, in one transaction.

The service layer creates one person in several round trips (validation, audit, name keys); that is right for
real people and far too slow for 200,000. Here rows are built in memory and streamed with COPY, while the rules
that matter for search are shared, not copied: name keys come from `people.service.name_keys` and the directory
order from `text.sort_key_for`, so seeded people are found exactly as created ones are.
"""

from __future__ import annotations

import itertools
import json
import random
import time
from dataclasses import dataclass
from functools import cache
from typing import Any

import psycopg
from psycopg.copy import QueuedLibpqWriter
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from socius.config import get_settings
from socius.core import markdown, text
from socius.core.db import libpq_conninfo, utcnow
from socius.demo import company, names
from socius.demo.company import DEPARTMENTS, DOMAIN, SEED_OFFICES, Office
from socius.demo.generate import about_text, links_for
from socius.people.service import GUEST_HIDEABLE, name_keys

REPORTS_PER_MANAGER = 8
PERSON_COLUMNS = (
    "id", "display_name", "name_native", "name_latin", "email", "title", "department", "location", "time_zone",
    "phone", "languages", "manager_id", "about_md", "about_html", "links", "role", "deactivated_at", "locale",
    "guest_hidden", "sort_key",
)
LEVEL_TITLES = ("Chief Executive Officer", "Vice President", "Senior Director", "Director", "Senior Manager",
                "Manager")
REGIONS = ("Taiwan", "Mainland China", "Hong Kong & Macau", "Southeast Asia", "Japan & Korea", "Europe",
           "Americas", "Global")


@dataclass(frozen=True)
class SeedDepartment:
    name: str  # "R&D / Cloud Platform / Taiwan"
    department: company.Department
    staff_titles: tuple[str, ...]


SEED_DEPARTMENTS: tuple[SeedDepartment, ...] = tuple(
    SeedDepartment(f"{d.name} / {area.name} / {region}", d, area.staff_titles)
    for d in DEPARTMENTS for area in d.areas for region in REGIONS
)


@dataclass
class _Names:
    """What `name_keys` reads from a person, for one name or one e-mail address at a time."""

    display_name: str = ""
    name_native: str | None = None
    name_latin: str | None = None
    email: str | None = None


# `name_keys` is a union over the person's names plus their e-mail: keys of one name do not depend on the
# others. Seeding relies on that to cache per name (a few thousand distinct ones) instead of per person.
# `_check_key_decomposition` guards the assumption on the first people of every run.
@cache
def _keys_of_name(name: str) -> frozenset[str]:
    return frozenset(name_keys(_Names(display_name=name)))  # type: ignore[arg-type]


def _keys_of_email(email: str) -> set[str]:
    return name_keys(_Names(email=email))  # type: ignore[arg-type]


def person_keys(display_name: str, name_native: str | None, name_latin: str | None, email: str) -> set[str]:
    keys = set(_keys_of_email(email))
    for name in (display_name, name_native, name_latin):
        if name:
            keys |= _keys_of_name(name)
    return keys


def _check_key_decomposition(rows: list[tuple[Any, ...]]) -> None:
    for row in rows:
        whole = name_keys(_Names(row[1], row[2], row[3], row[4]))  # type: ignore[arg-type]
        if whole != person_keys(row[1], row[2], row[3], row[4]):
            raise RuntimeError("people.service.name_keys no longer works name by name; update demo/seed.py")


@cache
def _sort_key(display_name: str, name_latin: str | None, name_native: str | None) -> str:
    return text.sort_key_for(display_name, name_latin, name_native)


class _Abouts:
    """A few rendered "about me" texts per office, department and culture: rendering Markdown 200,000 times
    would dominate seeding and teach nothing."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.pool: dict[tuple[str, str, str], list[tuple[str, str]]] = {}

    def pick(self, office: Office, department: company.Department, culture: str) -> tuple[str, str]:
        key = (office.key, department.name, culture)
        choices = self.pool.get(key)
        if choices is None:
            choices = []
            for _ in range(3):
                source = about_text(self.rng, culture, office, department)
                choices.append((source, markdown.render(source)))
            self.pool[key] = choices
        return self.rng.choice(choices)


def seed_people(url: str, n: int, console: Console) -> None:
    """Add `n` synthetic people (a reporting tree, ~8 reports per manager) with their name keys, via COPY."""
    started = time.perf_counter()
    guest_hidden = [f for f in get_settings().guest_hidden_fields if f in GUEST_HIDEABLE]
    offices = list(SEED_OFFICES)
    office_indexes = range(len(offices))
    office_weights = list(itertools.accumulate(o.weight for o in offices))
    with psycopg.connect(libpq_conninfo(url)) as conn:
        sequence = conn.execute("SELECT pg_get_serial_sequence('person', 'id')").fetchone()[0]
        # Ids come from the table's own sequence, so later inserts by the app continue after them.
        ids = [row[0] for row in conn.execute("SELECT nextval(%s) FROM generate_series(1, %s)", (sequence, n))]
        rng = random.Random(ids[0])  # deterministic for a given database state
        abouts = _Abouts(rng)
        now = utcnow()
        # Per person, only what the next steps need: its id, its office and department indexes, its depth.
        office_of: list[int] = [0] * n
        department_of: list[int] = [0] * n
        depth_of: list[int] = [0] * n
        keys_of: list[tuple[int, str, set[str]]] = []  # (person id, sort key, name keys)
        first_rows: list[tuple[Any, ...]] = []

        with Progress(
            TextColumn("{task.description:<12}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            console=console, transient=False,
        ) as progress:
            people_task = progress.add_task("people", total=n)
            with conn.transaction(), conn.cursor() as cursor:
                checks_skipped = _skip_row_checks(conn)
                with cursor.copy(f"COPY person ({', '.join(PERSON_COLUMNS)}) FROM STDIN",
                                 writer=QueuedLibpqWriter(cursor)) as copy:
                    for i, person_id in enumerate(ids):
                        if i == 0:
                            manager, depth = None, 0
                            office_index = 0
                            department_index = rng.randrange(len(SEED_DEPARTMENTS))
                        else:
                            m = (i - 1) // REPORTS_PER_MANAGER
                            manager, depth = ids[m], depth_of[m] + 1
                            office_index = office_of[m] if rng.random() < 0.7 else \
                                rng.choices(office_indexes, cum_weights=office_weights)[0]
                            department_index = department_of[m] if depth > 2 and rng.random() < 0.85 else \
                                rng.randrange(len(SEED_DEPARTMENTS))
                        office_of[i], department_of[i], depth_of[i] = office_index, department_index, depth
                        row = _person_row(rng, abouts, person_id, manager, depth, offices[office_index],
                                          SEED_DEPARTMENTS[department_index], leaf=i * REPORTS_PER_MANAGER + 1 >= n,
                                          now=now, guest_hidden=guest_hidden)
                        copy.write_row(row)
                        keys_of.append((person_id, row[-1], person_keys(row[1], row[2], row[3], row[4])))
                        if i < 200:
                            first_rows.append(row)
                        if i % 2000 == 1999:
                            progress.update(people_task, completed=i + 1)
                progress.update(people_task, completed=n)
                people_done = time.perf_counter()
                _check_key_decomposition(first_rows)

                total_keys = sum(len(keys) for _, _, keys in keys_of)
                keys_task = progress.add_task("name keys", total=total_keys)
                done = 0
                with cursor.copy("COPY person_name_key (person_id, key, sort_key) FROM STDIN",
                                 writer=QueuedLibpqWriter(cursor)) as copy:
                    for person_id, sort_key, keys in keys_of:
                        for key in keys:
                            copy.write_row((person_id, key, sort_key))
                        done += len(keys)
                        if person_id % 5000 == 0:
                            progress.update(keys_task, completed=done)
                progress.update(keys_task, completed=total_keys)
                keys_done = time.perf_counter()
                if checks_skipped:
                    _check_references(conn, ids[0])
            analyze_task = progress.add_task("analyze", total=1)
            conn.execute("ANALYZE person")
            conn.execute("ANALYZE person_name_key")
            conn.commit()
            progress.update(analyze_task, completed=1)
    elapsed = time.perf_counter() - started
    console.print(
        f"Added {n:,} people and {total_keys:,} name keys in {elapsed:.1f} s (people {people_done - started:.1f} s, "
        f"name keys {keys_done - people_done:.1f} s, checks and ANALYZE {time.perf_counter() - keys_done:.1f} s; "
        f"ids {ids[0]}–{ids[-1]})."
    )


def _skip_row_checks(conn: psycopg.Connection) -> bool:
    """Turn off foreign-key triggers for this transaction if allowed (superuser, e.g. the embedded server).

    Checked row by row they are most of the load time: ~2 million name keys each look up their person.
    `_check_references` then checks the new rows in two set-based queries instead.
    """
    try:
        with conn.transaction():
            conn.execute("SET LOCAL session_replication_role = replica")
    except psycopg.errors.InsufficientPrivilege:
        return False
    return True


def _check_references(conn: psycopg.Connection, first_id: int) -> None:
    dangling = conn.execute(
        """
        SELECT (SELECT count(*) FROM person p WHERE p.id >= %(first)s AND p.manager_id IS NOT NULL
                  AND NOT EXISTS (SELECT 1 FROM person m WHERE m.id = p.manager_id)),
               (SELECT count(*) FROM person_name_key k WHERE k.person_id >= %(first)s
                  AND NOT EXISTS (SELECT 1 FROM person p WHERE p.id = k.person_id))
        """,
        {"first": first_id},
    ).fetchone()
    if dangling != (0, 0):
        raise RuntimeError(f"seeding produced dangling references (managers, name keys): {dangling}")


def _person_row(
    rng: random.Random, abouts: _Abouts, person_id: int, manager: int | None, depth: int, office: Office,
    department: SeedDepartment, *, leaf: bool, now: Any, guest_hidden: list[str],
) -> tuple[Any, ...]:
    culture = office.culture
    roll = rng.random()
    if culture in ("en", "es", "fr") and roll < 0.15:
        culture = "tw" if roll < 0.05 else "cn"
    elif culture in ("tw", "cn") and roll < 0.02:
        culture = "en"
    name = names.make_name(rng, culture)
    email = f"{name.email_local}.{person_id}@{DOMAIN}"  # the id makes it unique
    title = LEVEL_TITLES[depth] if depth < len(LEVEL_TITLES) else rng.choice(department.staff_titles)
    about_md, about_html = abouts.pick(office, department.department, culture) if rng.random() < 0.3 else ("", "")
    links = json.dumps(links_for(rng, name.email_local, department.name)) if rng.random() < 0.1 else "[]"
    role, deactivated_at = "member", None
    if leaf:
        roll = rng.random()
        if roll < 0.005:
            role = "guest"  # a guest's manager is their host; guests are never managers, hence leaves only
        elif roll < 0.025:
            deactivated_at = now
    return (
        person_id, name.display_name, name.name_native, name.name_latin, email, title, department.name,
        office.location, office.time_zone, company.phone_number(rng, office.phone), company.languages_for(rng, culture),
        manager, about_md, about_html, links, role, deactivated_at,
        company.LOCALE_OF[culture] if rng.random() < 0.2 else None, guest_hidden,
        _sort_key(name.display_name, name.name_latin, name.name_native),
    )
