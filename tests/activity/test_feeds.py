"""The feeds: what each kind of following brings, and what never reaches someone who may not read it."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from socius.activity import service
from socius.communities import service as communities
from socius.content import service as content
from socius.core.errors import NotFound, ValidationFailed
from socius.notifications import service as notifications
from tests.notifications.conftest import deferred


def bodies(feed: service.Feed) -> list[str]:
    return [e.item.body_md if e.item else f"{e.activity.verb}:{e.community.name}" for e in feed.entries]


async def test_following_a_person_a_community_and_a_tag_brings_their_entries(db, make_person, community, post):
    reader, ann, bob, owner = [await make_person(n) for n in ("Reader", "Ann", "Bob", "Owner")]
    place = await community(owner, "Rust 社群", members=[bob])
    await post(ann, "Ann's news")
    await post(bob, "Bob in the community", community=place)
    await post(bob, "Bob elsewhere #量子計算")
    await post(owner, "Nobody follows this")
    await post(reader, "My own update")
    assert bodies(await service.home_feed(db, reader.principal)) == ["My own update"]

    await service.follow(db, reader.principal, "person", ann.id)
    assert bodies(await service.home_feed(db, reader.principal)) == ["My own update", "Ann's news"]
    await service.follow(db, reader.principal, "community", str(place.id))
    await service.follow(db, reader.principal, "tag", "量子计算")  # the Simplified spelling: one folded key
    assert bodies(await service.home_feed(db, reader.principal, kind="status")) == [
        "My own update", "Bob elsewhere #量子計算", "Bob in the community", "Ann's news"]
    # The community's own events (Bob joining) are there too when asked for.
    joined = await service.home_feed(db, reader.principal, kind="community")
    assert [(e.activity.verb, e.actor.display_name) for e in joined.entries] == [("join", "Bob"), ("create", "Owner")]


async def test_my_communities_are_in_my_feed_without_following_and_entries_appear_once(
        db, make_person, community, post):
    me, friend = await make_person("Me"), await make_person("Friend")
    place = await community(friend, "Team", members=[me])
    await post(friend, "In my team #rust", community=place)
    await service.follow(db, me.principal, "person", friend.id)
    await service.follow(db, me.principal, "community", place.id)
    await service.follow(db, me.principal, "tag", "rust")
    feed = await service.home_feed(db, me.principal, kind="status")
    assert bodies(feed) == ["In my team #rust"]  # reached by four sources, shown once


async def test_restricted_content_never_reaches_a_non_member(db, make_person, community, post, admin, guest):
    owner, insider, outsider = await make_person("Owner"), await make_person("Insider"), await make_person("Out")
    secret = await community(owner, "併購小組", access="restricted", members=[insider])
    await post(insider, "Secret plan #merger", community=secret)
    await post(insider, "Public musing #merger")
    for someone in (outsider, guest):
        if someone is outsider:
            await service.follow(db, outsider.principal, "person", insider.id)
        await service.follow(db, someone.principal, "tag", "merger")
        home = await service.home_feed(db, someone.principal)
        assert "Secret plan #merger" not in bodies(home)
        _key, tagged = await service.tag_feed(db, someone.principal, "merger")
        assert "Secret plan #merger" not in bodies(tagged)
        assert all(e.community is None or e.community.id != secret.id for e in home.entries + tagged.entries)
        with pytest.raises(NotFound):
            await service.community_feed(db, someone.principal, secret.id)
    _person, profile = await service.profile_feed(db, outsider.principal, insider.id)
    assert bodies(profile) == ["Public musing #merger"]  # not the secret post, nor joining the secret community
    _person, profile = await service.profile_feed(db, owner.principal, insider.id)
    assert bodies(profile)[:2] == ["Public musing #merger", "Secret plan #merger"]
    _c, inside = await service.community_feed(db, admin.principal, secret.id, kind="status")
    assert bodies(inside) == ["Secret plan #merger"]
    # Guests see their own communities' content, nothing of profiles they cannot read.
    assert "Public musing #merger" not in bodies(await service.home_feed(db, guest.principal))


async def test_leaving_a_community_removes_its_entries_at_once(db, make_person, community, post):
    owner, me = await make_person("Owner"), await make_person("Me")
    secret = await community(owner, "Closed", access="restricted", members=[me])
    await post(owner, "Inside news", community=secret)
    await service.follow(db, me.principal, "community", secret.id)
    await service.follow(db, me.principal, "person", owner.id)
    assert "Inside news" in bodies(await service.home_feed(db, me.principal))
    await communities.leave(db, me.principal, secret.id)
    assert "Inside news" not in bodies(await service.home_feed(db, me.principal))
    assert secret.id not in [c.id for c in (await service.followed(db, me.principal)).communities]


async def test_hidden_and_deleted_items_disappear_and_comments_follow_their_parent(db, make_person, community,
                                                                                  post):
    owner, me = await make_person("Owner"), await make_person("Me")
    place = await community(owner, "Open")
    await service.follow(db, me.principal, "community", place.id)
    hidden = await post(owner, "To be hidden", community=place, kind="topic")
    deleted = await post(owner, "To be deleted", community=place, kind="topic")
    kept = await post(owner, "Kept", community=place, kind="topic")
    await content.comment(db, owner.principal, deleted.id, "A comment on it")
    await content.comment(db, owner.principal, kept.id, "A comment on the kept one")
    await content.set_hidden(db, owner.principal, hidden.id, True)
    await content.delete_item(db, owner.principal, deleted)
    feed = await service.home_feed(db, me.principal)
    assert bodies(feed) == ["A comment on the kept one", "Kept", "create:Open"]
    remark = feed.entries[0]
    assert remark.headline == "Kept" and remark.url == f"/items/{kept.id}#item-{remark.item.id}"
    # The community's moderator still sees the hidden topic (marked hidden on the page).
    _c, moderated = await service.community_feed(db, owner.principal, place.id, kind="topic")
    assert [e.item.title for e in moderated.entries] == ["Kept", "To be hidden"]


async def test_pages_have_no_gaps_or_duplicates(db, make_person, community, post):
    me, a, b = await make_person("Me"), await make_person("A"), await make_person("B")
    place = await community(a, "Both", members=[b])
    for n in range(23):
        author = (a, b)[n % 2]
        await post(author, f"post {n} #paging", community=place if n % 3 else None)
    for kind, target in (("person", a.id), ("person", b.id), ("community", place.id), ("tag", "paging")):
        await service.follow(db, me.principal, kind, target)
    whole = await service.home_feed(db, me.principal, kind="status", limit=50)
    assert len(whole.entries) == 23 and whole.next_cursor is None
    seen, cursor = [], None
    while True:
        page = await service.home_feed(db, me.principal, kind="status", before=cursor, limit=4)
        seen += [e.activity.id for e in page.entries]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [e.activity.id for e in whole.entries]
    assert seen == sorted(seen, reverse=True)


async def test_the_kind_filter(db, make_person, community, post):
    me = await make_person("Me")
    place = await community(me, "Mine")
    status = await post(me, "A status", community=place)
    await post(me, "A topic", community=place, kind="topic")
    await post(me, "An entry", community=place, kind="entry")
    await content.comment(db, me.principal, status.id, "A comment")
    await content.set_like(db, me.principal, status.id, True)
    kinds = {}
    for kind in ("status", "topic", "entry", "comment", "like", "community", "file"):
        feed = await service.home_feed(db, me.principal, kind=kind)
        kinds[kind] = [(e.activity.verb, e.headline) for e in feed.entries]
    assert kinds == {"status": [("post", "A status")], "topic": [("post", "A topic")],
                     "entry": [("post", "An entry")], "comment": [("comment", "A status")],
                     "like": [("like", "A status")], "community": [("create", "Mine")], "file": []}
    for bad in ("statuses", "<b>", 3):
        with pytest.raises(ValidationFailed) as error:
            await service.home_feed(db, me.principal, kind=bad)
        assert error.value.by_field().keys() == {"kind"}


async def test_bad_cursors_and_targets_name_the_field(db, make_person):
    me = await make_person("Me")
    for cursor in ("nonsense", "WzFd" * 200, "WyJ4Il0", "Wzk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5XQ", "Wy0xXQ"):
        with pytest.raises(ValidationFailed) as error:
            await service.home_feed(db, me.principal, before=cursor)
        assert error.value.by_field().keys() == {"before"}
    for kind, target, field in (("tag", "<script>x</script>", "target"), ("tag", "", "target"),
                                ("group", "1", "target_kind"), ("person", "abc", "target"),
                                ("person", me.id, "target")):
        with pytest.raises(ValidationFailed) as error:
            await service.follow(db, me.principal, kind, target)
        assert error.value.by_field().keys() == {field}
    for kind, target in (("person", 2**63 - 1), ("person", "9" * 30), ("community", 123456789)):
        with pytest.raises(NotFound):
            await service.follow(db, me.principal, kind, target)
    assert await db.scalar(text("SELECT count(*) FROM follow WHERE person_id = :p"), {"p": me.id}) == 0


async def test_following_a_restricted_community_needs_membership(db, make_person, community, admin):
    owner, invited, outsider = await make_person("Owner"), await make_person("Invited"), await make_person("Out")
    secret = await community(owner, "Closed", access="restricted")
    await communities.invite(db, owner.principal, secret.id, [invited.id])
    for someone in (outsider, invited):  # an invitation shows the name, not the content
        with pytest.raises(NotFound):
            await service.follow(db, someone.principal, "community", secret.id)
    await service.follow(db, owner.principal, "community", secret.id)
    await service.follow(db, admin.principal, "community", secret.id)
    assert (await service.follow_button_context(db, outsider.principal, "community", secret))["can_follow"] is False


async def test_join_and_create_in_a_restricted_community_stay_inside(db, make_person, community):
    owner, me = await make_person("Owner"), await make_person("Me")
    await service.follow(db, me.principal, "person", owner.id)
    await community(owner, "Closed", access="restricted")
    await community(owner, "Open")
    feed = await service.home_feed(db, me.principal)
    assert [(e.activity.verb, e.community.name) for e in feed.entries] == [("create", "Open")]


async def test_a_community_post_tells_its_followers_who_may_read_it_by_a_job(db, make_person, community, post):
    owner, fan, leaver = [await make_person(n) for n in ("Owner", "Fan", "Leaver")]
    place = await community(owner, "Open", members=[leaver])
    for someone in (fan, owner, leaver):
        await service.follow(db, someone.principal, "community", place.id)
    topic = await post(owner, "Hello all", community=place, kind="topic")
    await post(owner, "On my profile")  # not in a community: nobody told
    await content.comment(db, owner.principal, topic.id, "Comments are not fanned out")
    [job] = await deferred(db, "notify_fanout")
    assert job["audience"] == "community_followers" and job["params"] == {"community_id": place.id}
    await communities.change(db, owner.principal, place.id, {"access": "restricted"})
    told = await notifications.fan_out_audience(db, job["audience"], job["params"], job["kind"],
                                                actor_id=job["actor_id"], url=job["url"],
                                                community_id=job["community_id"], data=job["data"])
    rows = (await db.execute(text("SELECT person_id FROM notification WHERE kind = 'community_post'"))).all()
    # Now restricted: the fan (not a member) is no longer told; the author never is; the member who follows is.
    assert told == 1 and [r[0] for r in rows] == [leaver.id]
    assert job["url"] == f"/communities/{place.id}/forum/{topic.id}" and job["data"]["title"] == "Hello all"


async def _run_fanout(db) -> None:
    for job in await deferred(db, "notify_fanout"):
        await notifications.fan_out_audience(db, job["audience"], job["params"], job["kind"],
                                             actor_id=job["actor_id"], url=job["url"],
                                             community_id=job["community_id"], data=job["data"])


async def test_a_follower_mentioned_in_a_community_post_is_told_once_of_the_mention(db, make_person, community,
                                                                                      post):
    owner, mentioned, fan, quiet = [await make_person(n) for n in ("Owner", "Mei", "Fan", "Quiet")]
    place = await community(owner, "Open")
    for someone in (mentioned, fan, quiet):
        await service.follow(db, someone.principal, "community", place.id)
    # Quiet wants no word of mentions at all, but does follow the community.
    await notifications.set_preferences(db, quiet.principal, {"mentioned": notifications.Choice(False, "none")})
    await post(owner, f"@[Mei]({mentioned.id}) and @[Quiet]({quiet.id}), please review", community=place,
               kind="topic", title="Review")
    await _run_fanout(db)
    rows = (await db.execute(text("SELECT person_id, kind FROM notification ORDER BY person_id, kind"))).all()
    assert sorted(rows) == sorted([(mentioned.id, "mentioned"), (fan.id, "community_post"),
                                   (quiet.id, "community_post")])
    assert [n.message for n in await notifications.latest(db, mentioned.principal)] == [
        "Owner mentioned you in “Review”"]


async def test_a_page_is_filled_past_many_entries_the_reader_may_not_see(db, make_person, community, post):
    """The fast path reads a few newest ids per source, then checks them: when they are all unreadable, it reads
    on below them until the page is full."""
    insider, outsider = await make_person("Insider"), await make_person("Outsider")
    secret = await community(insider, "Closed", access="restricted")
    await post(insider, "Old public note")
    await post(insider, "Second public note")
    for n in range(40):
        await post(insider, f"secret {n}", community=secret)
    await service.follow(db, outsider.principal, "person", insider.id)
    feed = await service.home_feed(db, outsider.principal, limit=1)
    assert bodies(feed) == ["Second public note"] and feed.next_cursor
    feed = await service.home_feed(db, outsider.principal, limit=1, before=feed.next_cursor)
    assert bodies(feed) == ["Old public note"] and feed.next_cursor is None
    assert bodies(await service.home_feed(db, outsider.principal, limit=5)) == ["Second public note",
                                                                                  "Old public note"]
