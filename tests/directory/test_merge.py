"""The merge engine: one person per human, fields by precedence, hand edits kept, safe deactivation."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from socius.directory import service
from socius.directory.models import DirectoryIdentity, DirectoryReview
from socius.people import service as people
from socius.people.models import Person, Role


async def _source(db, name, precedence=100, link_by=("email",)):
    return await service.create_source(db, None, name=name, kind="ldap", precedence=precedence,
                                       link_by=list(link_by), min_seen_ratio=0.5)


def rec(external_id, **values):
    manager = values.pop("manager", None)
    active = values.pop("active", True)
    return service.Record(external_id, values, manager_external_id=manager, active=active)


async def test_the_same_human_in_two_directories_is_one_person(db):
    paris = await _source(db, "AD Paris", precedence=50)
    taipei = await _source(db, "AD Taipei", precedence=80)
    first = await service.apply_record(db, paris, rec("p-1", display_name="Chen Mei-ling",
                                                      email="MeiLing.Chen@example.com", title="Engineer"))
    second = await service.apply_record(db, taipei, rec("t-9", display_name="陳美玲",
                                                        email="meiling.chen@example.com", title="資深工程師"))
    assert first.action == "added" and second.action == "merged" and first.person_id == second.person_id
    person = await db.get(Person, first.person_id)
    assert person.display_name == "陳美玲" and person.title == "資深工程師"  # Taipei ranks higher
    again = await service.apply_record(db, paris, rec("p-1", display_name="Chen Mei-ling",
                                                      email="meiling.chen@example.com", title="Senior Engineer"))
    assert again.skipped == {f: "higher_precedence" for f in ("display_name", "email", "title")}
    await db.refresh(person)
    assert person.title == "資深工程師"
    assert await db.scalar(select(func.count()).select_from(Person)) == 1


async def test_a_source_links_only_by_attributes_it_vouches_for(db):
    hr = await _source(db, "HR", link_by=())
    existing = await people.create_person(db, None, display_name="Lin", email="lin@example.com")
    outcome = await service.apply_record(db, hr, rec("x", display_name="Impostor", email="lin@example.com"))
    assert outcome.action == "added" and outcome.person_id != existing.id
    # The e-mail stays with its owner; the newcomer is created without it, and the clash is reviewed.
    newcomer = await db.get(Person, outcome.person_id)
    assert newcomer.email is None
    review = await db.scalar(select(DirectoryReview).where(DirectoryReview.external_id == "x"))
    assert review.reason == "email_taken"


async def test_an_entry_matching_an_administrator_goes_to_review(db, admin):
    scim = await _source(db, "Partner SCIM")
    outcome = await service.apply_record(db, scim, rec("a", display_name="Takeover",
                                                       email=admin.person.email, title="Pwned"))
    assert outcome.action == "review"
    await db.refresh(admin.person)
    assert admin.person.title is None and admin.person.role == Role.ADMINISTRATOR
    assert await db.scalar(select(func.count()).select_from(DirectoryIdentity)) == 0


async def test_ambiguous_matches_go_to_review(db):
    both = await _source(db, "Both", link_by=("email", "employee_number"))
    await people.create_person(db, None, display_name="A", email="a@example.com")
    await people.create_person(db, None, display_name="B", email="b@example.com", employee_number="E1")
    outcome = await service.apply_record(db, both, rec("z", display_name="?", email="a@example.com",
                                                       employee_number="E1"))
    assert outcome.action == "review"
    review = await db.scalar(select(DirectoryReview).where(DirectoryReview.external_id == "z"))
    assert review.reason == "ambiguous_match" and len(review.candidate_ids) == 2


async def test_hand_edits_stay_unless_locked_to_the_directory(db, make_person, admin):
    ad = await _source(db, "AD")
    outcome = await service.apply_record(db, ad, rec("m", display_name="Mei", email="mei@example.com",
                                                     title="Engineer"))
    owner = people.Principal(person_id=outcome.person_id, role=Role.MEMBER, via="session")
    await people.update_profile(db, owner, outcome.person_id, {"title": "Chief Tinkerer"})
    again = await service.apply_record(db, ad, rec("m", display_name="Mei", email="mei@example.com",
                                                   title="Senior Engineer"))
    assert again.skipped == {"title": "edited_by_hand"}
    person = await db.get(Person, outcome.person_id)
    assert person.title == "Chief Tinkerer"

    from socius.people.models import PersonFieldSource
    row = await db.get(PersonFieldSource, (person.id, "title"))
    row.locked = True
    await service.apply_record(db, ad, rec("m", display_name="Mei", email="mei@example.com", title="Lead"))
    await db.refresh(person)
    assert person.title == "Lead"


async def test_managers_resolve_by_external_id_and_cycles_are_refused(db):
    ad = await _source(db, "AD")
    records = [rec("ceo", display_name="CEO"), rec("vp", display_name="VP", manager="ceo"),
               rec("dev", display_name="Dev", manager="vp")]
    report = await service.run_batch(db, ad, records)
    assert report.counts["added"] == 3 and report.status == "succeeded"
    ids = dict((await db.execute(select(DirectoryIdentity.external_id, DirectoryIdentity.person_id))).all())
    dev, vp = await db.get(Person, ids["dev"]), await db.get(Person, ids["vp"])
    assert dev.manager_id == ids["vp"] and vp.manager_id == ids["ceo"]
    loop = await service.run_batch(db, ad, [rec("ceo", display_name="CEO", manager="dev"), *records[1:]])
    ceo = await db.get(Person, ids["ceo"])
    assert ceo.manager_id is None  # "would make a reporting cycle": refused, reported
    assert {"entry": "ceo", "field": "manager_id", "reason": "manager would make a reporting cycle"} in loop.errors


async def test_a_bad_entry_is_reported_and_the_rest_of_the_batch_goes_on(db):
    ad = await _source(db, "AD")
    report = await service.run_batch(db, ad, [
        rec("ok-1", display_name="Fine"),
        rec("bad", display_name="X" * 500, email="not-an-address"),
        {"error": {"entry": "row 3", "field": "email", "reason": "missing"}},
        rec("ok-2", display_name="Also fine"),
    ])
    assert report.counts["added"] >= 2 and report.counts["errors"] >= 1
    assert {e["entry"] for e in report.errors} >= {"row 3"}
    names = set(await db.scalars(select(Person.display_name)))
    assert {"Fine", "Also fine"} <= names


async def test_deactivation_waits_until_no_source_lists_the_person(db):
    a, b = await _source(db, "A"), await _source(db, "B")
    await service.run_batch(db, a, [rec("1", display_name="Both", email="both@example.com"),
                                    rec("2", display_name="Only A", email="a-only@example.com")])
    await service.run_batch(db, b, [rec("x", display_name="Both", email="both@example.com")])
    report = await service.run_batch(db, a, [rec("2", display_name="Only A", email="a-only@example.com")])
    both = await db.scalar(select(Person).where(Person.email == "both@example.com"))
    assert both.deactivated_at is None and report.counts.get("deactivated", 0) == 0  # B still lists them
    await service.run_batch(db, b, [])  # B empties: below the safety ratio, nobody goes
    await db.refresh(both)
    assert both.deactivated_at is None


async def test_a_sync_that_sees_far_fewer_people_deactivates_nobody(db):
    ad = await _source(db, "AD")
    await service.run_batch(db, ad, [rec(str(i), display_name=f"P{i}") for i in range(10)])
    report = await service.run_batch(db, ad, [rec("0", display_name="P0"), rec("1", display_name="P1")])
    assert report.counts.get("deactivated", 0) == 0 and "nobody deactivated" in report.note
    assert await db.scalar(select(func.count()).where(Person.deactivated_at.is_not(None))) == 0
    failed = await service.run_batch(db, ad, [], failure="server unreachable")
    assert failed.status == "failed" and failed.note == "server unreachable"
    fine = await service.run_batch(db, ad, [rec(str(i), display_name=f"P{i}") for i in range(9)])
    assert fine.counts["deactivated"] == 1  # P9 left the company: deactivated, not deleted
    p9 = await db.scalar(select(Person).where(Person.display_name == "P9"))
    assert p9.deactivated_at is not None


async def test_counts_are_a_full_report(db):
    ad = await _source(db, "AD")
    first = await service.run_batch(db, ad, [rec("1", display_name="One")])
    second = await service.run_batch(db, ad, [rec("1", display_name="One, renamed")])
    third = await service.run_batch(db, ad, [rec("1", display_name="One, renamed")])
    assert Counter(first.counts)["added"] == 1
    assert Counter(second.counts)["updated"] == 1
    assert Counter(third.counts)["unchanged"] == 1


async def test_an_entry_that_arrives_disabled_is_a_former_person_from_the_start(db):
    ad = await _source(db, "AD")
    outcome = await service.apply_record(db, ad, rec("gone", display_name="Left Already", active=False))
    assert outcome.action == "deactivated"
    assert (await db.get(Person, outcome.person_id)).deactivated_at is not None
