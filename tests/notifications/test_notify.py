"""Telling people: kinds, fan-out in one statement, who is skipped, preferences, the community visibility filter,
and that nobody reads or marks another person's notifications."""

from __future__ import annotations

import pytest
from sqlalchemy import event, literal, select

from socius.notifications import service
from socius.notifications.models import EmailMode, Notification
from socius.people import service as people
from socius.people.models import Person
from tests.notifications.conftest import deferred


async def rows(db, kind: str | None = None) -> list[tuple[int, str]]:
    query = select(Notification.person_id, Notification.kind).order_by(Notification.person_id)
    if kind:
        query = query.where(Notification.kind == kind)
    return [tuple(r) for r in (await db.execute(query)).all()]


def test_the_kinds_issue_7_needs_are_registered_with_their_defaults():
    expected = {"mentioned": EmailMode.IMMEDIATE, "invited": EmailMode.IMMEDIATE, "replied": EmailMode.DAILY,
                "commented": EmailMode.DAILY, "join_requested": EmailMode.DAILY, "join_approved": EmailMode.DAILY,
                "community_post": EmailMode.DAILY, "tagged": EmailMode.DAILY, "endorsed": EmailMode.DAILY,
                "liked": EmailMode.NONE}
    assert {k: service.KINDS[k].email for k in expected} == expected
    assert all(service.KINDS[k].in_app for k in expected)
    assert service.MESSAGES["invited"] == "{actor} invited you to {community}"


async def test_a_module_registers_its_own_kind(db, make_person, admin):
    reader = await make_person("Reader")
    service.register_kind("idea_promoted", "{actor} promoted your idea “{title}”", label="My ideas are promoted",
                          default_email=EmailMode.WEEKLY)
    try:
        assert await service.notify(db, reader.id, "idea_promoted", actor_id=admin.id, url="/ideas/1",
                                    title="Less paper")
        [shown] = await service.latest(db, reader.principal)
        assert shown.message == "Ada Admin promoted your idea “Less paper”"
    finally:
        del service.KINDS["idea_promoted"], service.MESSAGES["idea_promoted"]
    with pytest.raises(ValueError):
        await service.notify(db, reader.id, "idea_promoted", actor_id=None, url="/")


async def test_fan_out_is_one_insert_and_skips_the_actor_and_deactivated_people(db, make_person, admin):
    actor = await make_person("Actor")
    audience = [await make_person(f"Member {n}", department="Sales") for n in range(5)]
    await people.deactivate(db, admin.principal, audience[0].id)
    await db.flush()
    statements = []

    sync_engine = (await db.connection()).sync_engine

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(sync_engine, "before_cursor_execute", count)
    try:
        told = await service.notify_many(db, select(Person.id).where(Person.department == "Sales")
                                         .union_all(select(literal(actor.id))), "mentioned",
                                         actor_id=actor.id, url="/posts/7", title="Q3 plan")
    finally:
        event.remove(sync_engine, "before_cursor_execute", count)
    assert told == 4
    assert await rows(db, "mentioned") == [(p.id, "mentioned") for p in audience[1:]]
    inserts = [s for s in statements if s.lstrip().upper().startswith("WITH") and "INSERT INTO notification" in s]
    assert len(inserts) == 1, statements
    # "mentioned" is mailed immediately by default: one e-mail job for the four.
    [job] = await deferred(db, "notify_email")
    ids = (await db.scalars(select(Notification.id).where(Notification.kind == "mentioned"))).all()
    assert sorted(job["ids"]) == sorted(ids)


async def test_preferences_decide_who_gets_a_row_and_who_gets_an_immediate_email(db, make_person):
    quiet, email_only, app_only, default = [await make_person(n) for n in ("Quiet", "Mail", "App", "Default")]
    await service.set_preferences(db, quiet.principal, {"invited": service.Choice(False, "none")})
    await service.set_preferences(db, email_only.principal, {"invited": service.Choice(False, "immediate")})
    await service.set_preferences(db, app_only.principal, {"invited": service.Choice(True, "none")})
    everyone = select(Person.id).where(Person.id.in_([quiet.id, email_only.id, app_only.id, default.id]))
    assert await service.notify_many(db, everyone, "invited", url="/c/1", community="Design") == 3
    assert {p for p, _ in await rows(db, "invited")} == {email_only.id, app_only.id, default.id}
    [job] = await deferred(db, "notify_email")
    mailed = (await db.scalars(select(Notification.person_id).where(Notification.id.in_(job["ids"])))).all()
    assert sorted(mailed) == sorted([email_only.id, default.id])
    # E-mail only: never under the bell.
    assert await service.unread_count(db, email_only.principal) == 0
    assert await service.latest(db, email_only.principal) == []
    assert await service.unread_count(db, app_only.principal) == 1


async def test_nobody_reads_or_marks_another_persons_notifications(db, make_person, client, bearer, app):
    alice, bob = await make_person("Alice"), await make_person("Bob")
    await service.notify(db, alice.id, "replied", actor_id=bob.id, url="/posts/1", title="Hello")
    await db.flush()
    [alice_note] = (await db.scalars(select(Notification.id).where(Notification.person_id == alice.id))).all()
    async with await bearer(app, bob) as api:
        listed = (await api.get("/api/v1/notifications")).json()
        assert listed == {"unread": 0, "items": []}
        marked = await api.post("/api/v1/notifications/read", json={"ids": [alice_note]})
        assert marked.json() == {"marked": 0}
    assert await db.scalar(select(Notification.read_at).where(Notification.id == alice_note)) is None
    async with await bearer(app, alice) as api:
        assert (await api.get("/api/v1/notifications")).json()["items"][0]["message"] == "Bob replied to “Hello”"
    assert (await client.get("/api/v1/notifications")).status_code == 401


async def test_the_visibility_filter_hides_a_community_notification_once_its_reader_leaves(db, make_person,
                                                                                         membership):
    member, outsider = await make_person("Member"), await make_person("Outsider")
    await membership.add(member.id)
    c = membership.community
    audience = select(Person.id).where(Person.id.in_([member.id, outsider.id]))
    # Even when a caller passes the wrong audience, a non-member is not told.
    assert await service.notify_many(db, audience, "community_post", url=f"/c/{c}/p/1", community_id=c,
                                     community="Secret project", title="Launch date") == 1
    assert await service.unread_count(db, member.principal) == 1
    assert [s.message for s in await service.latest(db, member.principal)] == [
        "New in Secret project: “Launch date”"]

    await membership.remove(member.id)  # removed from the community
    assert await service.unread_count(db, member.principal) == 0
    assert await service.latest(db, member.principal) == []
    # Notifications without a community are not affected.
    await service.notify(db, member.id, "replied", actor_id=outsider.id, url="/p/2", title="Lunch")
    assert await service.unread_count(db, member.principal) == 1


async def test_without_a_filter_installed_community_notifications_are_shown_to_nobody(db, make_person,
                                                                                        membership):
    reader = await make_person("Reader")
    previous = service.set_visibility_filter(None)
    try:
        await service.notify(db, reader.id, "community_post", actor_id=None, url="/c/1",
                             community_id=membership.community,
                             community="C", title="T")
        assert await service.unread_count(db, reader.principal) == 0
    finally:
        service.set_visibility_filter(previous)


async def test_notify_later_defers_the_fan_out_and_the_job_tells_the_audience(db, make_person):
    actor, a, b = await make_person("Actor"), await make_person("A"), await make_person("B")
    await service.notify_later(db, "people", "liked", params={"ids": [a.id, b.id, actor.id]}, actor_id=actor.id,
                               url="/p/1", title="My post")
    assert await rows(db, "liked") == []  # nothing yet: the job does it
    [job] = await deferred(db, "notify_fanout")
    assert job["audience"] == "people" and job["data"] == {"title": "My post"}
    told = await service.fan_out_audience(db, job["audience"], job["params"], job["kind"],
                                          actor_id=job["actor_id"], url=job["url"],
                                          community_id=job["community_id"], data=job["data"])
    assert told == 2
    assert await rows(db, "liked") == [(a.id, "liked"), (b.id, "liked")]
    assert await deferred(db, "notify_email") == []  # likes are not mailed by default
    with pytest.raises(ValueError):
        await service.notify_later(db, "no-such-audience", "liked", params={})


async def test_a_message_missing_a_placeholder_still_renders(db, make_person):
    reader = await make_person("Reader")
    await service.notify(db, reader.id, "invited", actor_id=None, url="/c/1")  # no community given
    [shown] = await service.latest(db, reader.principal)
    assert shown.message == "Someone invited you to "

