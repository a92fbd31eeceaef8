"""The forum: topics and questions, replies, accepting an answer, by page and by API, for members, non-members,
guests and administrators; archived communities; conflicting edits; bad input."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Integer, select, update

from socius.communities import service as communities
from socius.content import service as content
from socius.content.models import Item
from socius.core.errors import Conflict, PermissionDenied, ValidationFailed
from socius.forum import service as forum
from socius.notifications.models import Notification


async def ask(db, someone, place, title="混凝土坍落度怎麼控制？", body="夏天出貨時坍落度損失很快。", **values):
    return await forum.create_topic(db, someone.principal, place.id,
                                    {"title": title, "body": body, "question": True, **values})


async def test_ask_reply_and_accept_through_the_pages(db, make_person, community, browser):
    owner = await make_person("Owner")
    asker = await make_person("王小明")
    helper = await make_person("李大華")
    town = await community(owner, "品管社群", members=[asker, helper])
    me = await browser(asker)

    response = await me.post(f"/communities/{town.id}/forum", {
        "title": "預拌混凝土的坍落度損失", "body": "運送 **90 分鐘**後坍落度掉很多", "tags": "混凝土, 品管",
        "question": "1"})
    assert response.status_code == 303, response.text
    topic_url = response.headers["location"]
    topic_id = int(topic_url.rsplit("/", 1)[1])
    assert topic_url == f"/communities/{town.id}/forum/{topic_id}"
    page = await me.get(topic_url)
    assert page.status_code == 200
    assert "<strong>90 分鐘</strong>" in page.text and "Question" in page.text and "混凝土" in page.text

    them = await browser(helper)
    response = await them.post(f"/items/{topic_id}/comments", {"body": "加緩凝劑，並控制水灰比。"})
    assert response.status_code == 303
    reply_id = await db.scalar(select(Item.id).where(Item.parent_id == topic_id))
    assert (await db.get(Item, reply_id)).kind == "reply"
    # Only the asker (or a moderator) is offered, and allowed, to accept.
    assert "Accept this answer" not in (await them.get(topic_url)).text
    assert (await them.post(f"{topic_url}/accept", {"reply_id": str(reply_id)})).status_code == 403
    assert "Accept this answer" in (await me.get(topic_url)).text

    response = await me.post(f"{topic_url}/accept", {"reply_id": str(reply_id)})
    assert response.status_code == 303 and response.headers["location"].endswith(f"#item-{reply_id}")
    page = await them.get(topic_url)
    assert "Accepted answer" in page.text and "Answered" in page.text
    told = (await db.execute(select(Notification.person_id, Notification.community_id, Notification.url)
                             .where(Notification.kind == "answer_accepted"))).all()
    assert told == [(helper.id, town.id, f"/items/{topic_id}#item-{reply_id}")]

    listing = await me.get(f"/communities/{town.id}/forum?show=unanswered")
    assert "預拌混凝土的坍落度損失" not in listing.text
    assert "預拌混凝土的坍落度損失" in (await me.get(f"/communities/{town.id}/forum?show=questions")).text
    # Taking the acceptance back makes it unanswered again.
    assert (await me.post(f"{topic_url}/accept", {"reply_id": ""})).status_code == 303
    assert "預拌混凝土的坍落度損失" in (await me.get(f"/communities/{town.id}/forum?show=unanswered")).text


async def test_topics_are_listed_by_newest_activity_and_paged(db, make_person, community, browser, api):
    owner = await make_person("Owner")
    town = await community(owner, "Town")
    old = await ask(db, owner, town, title="Older question")
    for n in range(21):
        await forum.create_topic(db, owner.principal, town.id, {"title": f"Note {n:02d}", "body": "x",
                                                                "tags": ["notes"] if n % 2 else []})
    # One transaction has one now(): the topics are dated back (their activity too), the question furthest.
    back = dt.timedelta(days=2) + dt.timedelta(days=1) * (Item.id == old.id).cast(Integer)
    await db.execute(update(Item).where(Item.community_id == town.id).values(
        created_at=Item.created_at - back, last_activity_at=Item.last_activity_at - back))
    await forum.reply(db, owner.principal, old.id, "Fresh reply")
    await db.flush()
    client = await api(owner)
    first = (await client.get(f"/api/v1/communities/{town.id}/forum/topics", params={"limit": 5})).json()
    assert first["items"][0]["title"] == "Older question"  # its reply is the newest activity
    assert first["window"] == {"limit": 5, "offset": 0, "next_offset": 5}
    questions = (await client.get(f"/api/v1/communities/{town.id}/forum/topics", params={"show": "questions"})).json()
    assert [t["title"] for t in questions["items"]] == ["Older question"]
    tagged = (await client.get(f"/api/v1/communities/{town.id}/forum/topics", params={"tag": "notes"})).json()
    assert len(tagged["items"]) == 10
    page = await (await browser(owner)).get(f"/communities/{town.id}/forum")
    assert page.text.count('class="panel"') == 20 and "page=2" in page.text
    page2 = await (await browser(owner)).get(f"/communities/{town.id}/forum?page=2")
    assert page2.text.count('class="panel"') == 2 and 'rel="prev"' in page2.text


async def test_a_deleted_reply_no_longer_counts_as_the_topics_latest_activity(db, make_person, community):
    owner, member = await make_person("Owner"), await make_person("Member")
    town = await community(owner, "Town", members=[member])
    older = await forum.create_topic(db, owner.principal, town.id, {"title": "Older", "body": "x"})
    newer = await forum.create_topic(db, owner.principal, town.id, {"title": "Newer", "body": "x"})
    for topic, days in ((older, 2), (newer, 1)):  # dated back (one transaction has one now())
        back = dt.timedelta(days=days)
        await db.execute(update(Item).where(Item.id == topic.id).values(
            created_at=Item.created_at - back, last_activity_at=Item.last_activity_at - back))

    async def order() -> list[str]:
        return [t.title for t in (await forum.topics(db, owner.principal, town.id)).items]

    assert await order() == ["Newer", "Older"]
    first = await forum.reply(db, member.principal, older.id, "First")
    second = await forum.reply(db, member.principal, older.id, "Second")
    assert await order() == ["Older", "Newer"]
    await content.delete_item(db, member.principal, second)
    assert await order() == ["Older", "Newer"]  # the first reply is still there, and recent
    await content.delete_item(db, member.principal, first)
    assert await order() == ["Newer", "Older"]
    await db.refresh(older)
    assert older.last_activity_at == older.created_at and older.comment_count == 0


async def test_who_may_do_what_in_a_public_community(db, make_person, community, admin, guest, browser, api):
    owner = await make_person("Owner")
    asker = await make_person("Asker")
    outsider = await make_person("Outsider")
    town = await community(owner, "Town", members=[asker])
    topic = await ask(db, asker, town)
    reply = await forum.reply(db, owner.principal, topic.id, "An answer")
    await db.flush()
    topic_url = f"/communities/{town.id}/forum/{topic.id}"

    # A non-member reads but may not post, reply or accept.
    them = await browser(outsider)
    assert (await them.get(f"/communities/{town.id}/forum")).status_code == 200
    page = await them.get(topic_url)
    assert page.status_code == 200 and "Join the community to take part." in page.text
    assert "New topic" not in (await them.get(f"/communities/{town.id}/forum")).text
    assert (await them.get(f"/communities/{town.id}/forum/new")).status_code == 403
    assert (await them.post(f"/communities/{town.id}/forum", {"title": "x", "body": "y"})).status_code == 403
    assert (await them.get(f"{topic_url}/edit")).status_code == 404
    client = await api(outsider)
    assert (await client.get(f"/api/v1/forum/topics/{topic.id}")).status_code == 200
    assert (await client.get(f"/api/v1/forum/topics/{topic.id}/replies")).json()["items"][0]["id"] == reply.id
    response = await client.post(f"/api/v1/communities/{town.id}/forum/topics", json={"title": "x"})
    assert response.status_code == 403
    assert (await client.post(f"/api/v1/forum/topics/{topic.id}/replies", json={"body": "me too"})).status_code == 403
    topic_api = f"/api/v1/forum/topics/{topic.id}"
    assert (await client.post(f"{topic_api}/accept", json={"reply_id": reply.id})).status_code == 403
    assert (await client.patch(topic_api, json={"version": 1, "title": "Mine"})).status_code == 403
    assert (await client.delete(f"/api/v1/forum/topics/{topic.id}")).status_code == 403

    # A guest reads only the communities they belong to.
    outside = await browser(guest)
    assert (await outside.get(f"/communities/{town.id}/forum")).status_code == 404
    assert (await outside.get(topic_url)).status_code == 404
    assert (await (await api(guest)).get(f"/api/v1/forum/topics/{topic.id}")).status_code == 404

    # An administrator moderates everywhere: may accept and edit, though not a member.
    boss = await api(admin)
    response = await boss.post(f"/api/v1/forum/topics/{topic.id}/accept", json={"reply_id": reply.id})
    assert response.status_code == 200 and response.json()["accepted_id"] == reply.id
    response = await boss.patch(f"/api/v1/forum/topics/{topic.id}", json={"version": 1, "title": "Clearer title"})
    assert response.status_code == 200 and response.json()["version"] == 2
    # A member who did not ask may not accept; the asker may.
    with pytest.raises(PermissionDenied):
        await forum.accept(db, owner.principal.__class__(person_id=(await make_person()).id,
                                                         role=owner.principal.role), topic.id, reply.id)
    mine = await api(asker)
    response = await mine.delete(f"/api/v1/forum/topics/{topic.id}/accept")
    assert response.status_code == 200 and response.json()["accepted_id"] is None


async def test_restricted_community_forum_is_404_everywhere_for_outsiders(db, make_person, community, admin,
                                                                            browser, api):
    owner = await make_person("Owner")
    insider = await make_person("Insider")
    outsider = await make_person("Outsider")
    secret = await community(owner, "併購小組", access="restricted", members=[insider])
    topic = await ask(db, insider, secret)
    reply = await forum.reply(db, owner.principal, topic.id, "Answer")
    await db.flush()
    base = f"/communities/{secret.id}/forum"
    them = await browser(outsider)
    for path in (base, f"{base}/new", f"{base}/{topic.id}", f"{base}/{topic.id}/edit", f"/items/{topic.id}"):
        assert (await them.get(path)).status_code == 404, path
    for path, data in ((base, {"title": "x", "body": "y"}), (f"{base}/{topic.id}/edit", {"title": "x", "version": "1"}),
                       (f"{base}/{topic.id}/accept", {"reply_id": str(reply.id)}),
                       (f"/items/{topic.id}/comments", {"body": "x"})):
        assert (await them.post(path, data)).status_code == 404, path
    client = await api(outsider)
    for method, path, body in (
            ("GET", f"/api/v1/communities/{secret.id}/forum/topics", None),
            ("POST", f"/api/v1/communities/{secret.id}/forum/topics", {"title": "x"}),
            ("GET", f"/api/v1/forum/topics/{topic.id}", None),
            ("GET", f"/api/v1/forum/topics/{topic.id}/replies", None),
            ("POST", f"/api/v1/forum/topics/{topic.id}/replies", {"body": "x"}),
            ("PATCH", f"/api/v1/forum/topics/{topic.id}", {"version": 1, "title": "x"}),
            ("POST", f"/api/v1/forum/topics/{topic.id}/accept", {"reply_id": reply.id}),
            ("DELETE", f"/api/v1/forum/topics/{topic.id}", None)):
        response = await client.request(method, path, json=body)
        assert response.status_code == 404, (method, path, response.text)
    assert (await (await browser(insider)).get(f"{base}/{topic.id}")).status_code == 200
    assert (await (await browser(admin)).get(f"{base}/{topic.id}")).status_code == 200
    assert await db.scalar(select(Item.title).where(Item.id == topic.id)) == "混凝土坍落度怎麼控制？"


async def test_an_archived_community_is_read_only(db, make_person, community, browser, api):
    owner = await make_person("Owner")
    town = await community(owner, "Old town")
    topic = await ask(db, owner, town)
    reply = await forum.reply(db, owner.principal, topic.id, "Answer")
    await communities.set_archived(db, owner.principal, town.id, True)
    await db.flush()
    me = await browser(owner)
    listing = await me.get(f"/communities/{town.id}/forum")
    assert listing.status_code == 200 and "archived" in listing.text and "New topic" not in listing.text
    page = await me.get(f"/communities/{town.id}/forum/{topic.id}")
    assert page.status_code == 200 and "Accept this answer" not in page.text and "/edit" not in page.text
    assert (await me.post(f"/communities/{town.id}/forum", {"title": "x", "body": "y"})).status_code == 409
    client = await api(owner)
    assert (await client.post(f"/api/v1/communities/{town.id}/forum/topics", json={"title": "x"})).status_code == 409
    assert (await client.post(f"/api/v1/forum/topics/{topic.id}/replies", json={"body": "x"})).status_code == 409
    topic_api = f"/api/v1/forum/topics/{topic.id}"
    assert (await client.post(f"{topic_api}/accept", json={"reply_id": reply.id})).status_code == 409
    assert (await client.patch(topic_api, json={"version": 1, "title": "x"})).status_code == 403
    assert await db.scalar(select(Item.accepted_id).where(Item.id == topic.id)) is None


async def test_a_stale_edit_shows_the_conflict_and_keeps_the_text(db, make_person, community, browser, api):
    owner = await make_person("Owner")
    moderator = await make_person("Moderator")
    town = await community(owner, "Town", members=[moderator])
    await communities.set_role(db, owner.principal, town.id, moderator.id, "moderator")
    topic = await ask(db, owner, town)
    me = await browser(owner)
    form = await me.get(f"/communities/{town.id}/forum/{topic.id}/edit")
    assert 'name="version" value="1"' in form.text and "checked" in form.text
    # The moderator saves first.
    await forum.edit_topic(db, moderator.principal, topic.id, {"body": "版主改過的內容"}, expected_version=1)
    await db.flush()
    response = await me.post(f"/communities/{town.id}/forum/{topic.id}/edit", {
        "title": "我的標題", "body": "我花了很久寫的內容", "tags": "", "question": "1", "version": "1"})
    assert response.status_code == 409
    assert "我花了很久寫的內容" in response.text  # the editor's text stays in the form
    assert "版主改過的內容" in response.text  # what was saved meanwhile is shown
    assert 'name="version" value="2"' in response.text
    assert await db.scalar(select(Item.body_md).where(Item.id == topic.id)) == "版主改過的內容"
    # Saving again, knowingly, from the version now shown, works.
    response = await me.post(f"/communities/{town.id}/forum/{topic.id}/edit", {
        "title": "我的標題", "body": "合併後的內容", "tags": "", "question": "1", "version": "2"})
    assert response.status_code == 303
    client = await api(owner)
    response = await client.patch(f"/api/v1/forum/topics/{topic.id}", json={"version": 2, "body": "stale"})
    assert response.status_code == 409
    saved = (await client.get(f"/api/v1/forum/topics/{topic.id}")).json()
    assert (saved["body_md"], saved["version"], saved["question"]) == ("合併後的內容", 3, True)


async def test_bad_input_is_refused_with_the_field_named(db, make_person, community, browser, api):
    owner = await make_person("Owner")
    member = await make_person("Member")
    town = await community(owner, "Town", members=[member])
    topic = await ask(db, owner, town)
    statement = await forum.create_topic(db, owner.principal, town.id, {"title": "Not a question", "body": "x"})
    other = await ask(db, owner, town, title="Another question")
    elsewhere = await forum.reply(db, member.principal, other.id, "Elsewhere")
    await db.flush()
    client = await api(owner)
    base = f"/api/v1/communities/{town.id}/forum/topics"
    for body, field in (({"body": "no title"}, "title"), ({"title": ""}, "title"), ({"title": "x" * 301}, "title"),
                        ({"title": "a\x07b"}, "title"), ({"title": "ok", "tags": ["<b>"]}, "tags"),
                        ({"title": "ok", "question": "yes"}, "question"), ({"title": "ok", "body": 5}, "body"),
                        ({"title": "ok", "extra": 1}, "extra")):
        response = await client.post(base, json=body)
        assert response.status_code == 422, (body, response.text)
        assert field in {f["field"] for f in response.json()["error"]["fields"]}, (body, response.text)
    for params in ({"limit": 0}, {"limit": 101}, {"offset": -1}, {"show": "mine"}, {"tag": "x" * 51}):
        assert (await client.get(base, params=params)).status_code == 422, params
    for path in (f"/api/v1/communities/{2**70}/forum/topics", f"/api/v1/forum/topics/{2**63}",
                 f"/api/v1/forum/topics/{statement.id + 10**6}"):
        assert (await client.get(path)).status_code == 404, path
    assert (await client.get("/api/v1/forum/topics/abc")).status_code == 422
    response = await client.patch(f"/api/v1/forum/topics/{topic.id}", json={"title": "x"})
    assert response.status_code == 422  # the version is required
    response = await client.post(f"/api/v1/forum/topics/{topic.id}/accept", json={"reply_id": elsewhere.id})
    assert response.status_code == 422 and response.json()["error"]["fields"][0]["field"] == "reply_id"
    response = await client.post(f"/api/v1/forum/topics/{statement.id}/accept", json={"reply_id": None})
    assert response.status_code == 409  # only a question has an accepted answer
    with pytest.raises(ValidationFailed):
        await forum.accept(db, owner.principal, topic.id, "1; drop table")
    # The page shows the form again, with the reason next to the field and nothing saved.
    me = await browser(owner)
    response = await me.post(f"/communities/{town.id}/forum", {"title": " ", "body": "kept text"})
    assert response.status_code == 422 and "must not be empty" in response.text and "kept text" in response.text
    assert (await me.get(f"/communities/{town.id}/forum?page=-5&show=bogus")).status_code == 200
    assert (await me.get(f"/communities/{town.id}/forum/{topic.id + 10**9}")).status_code == 404
    count = len(list(await db.scalars(select(Item.id).where(Item.community_id == town.id, Item.kind == "topic"))))
    assert count == 3


async def test_a_topic_is_only_at_its_own_communitys_address(db, make_person, community, browser):
    owner = await make_person("Owner")
    one = await community(owner, "One")
    two = await community(owner, "Two")
    topic = await ask(db, owner, one)
    await db.flush()
    me = await browser(owner)
    assert (await me.get(f"/communities/{two.id}/forum/{topic.id}")).status_code == 404
    # /items/{id} leads to the forum page.
    response = await me.get(f"/items/{topic.id}")
    assert response.status_code == 303 and response.headers["location"] == f"/communities/{one.id}/forum/{topic.id}"


async def test_accepting_twice_changes_nothing_and_hidden_replies_cannot_be_accepted(db, make_person, community):
    owner = await make_person("Owner")
    helper = await make_person("Helper")
    town = await community(owner, "Town", members=[helper])
    topic = await ask(db, owner, town)
    reply = await forum.reply(db, helper.principal, topic.id, "Answer")
    spam = await forum.reply(db, helper.principal, topic.id, "Spam")
    await forum.accept(db, owner.principal, topic.id, reply.id)
    await forum.accept(db, owner.principal, topic.id, reply.id)
    told = list(await db.scalars(select(Notification.id).where(Notification.kind == "answer_accepted")))
    assert len(told) == 1
    await content.set_hidden(db, owner.principal, spam.id, True)
    with pytest.raises(ValidationFailed):
        await forum.accept(db, owner.principal, topic.id, spam.id)
    with pytest.raises(Conflict):
        await forum.accept(db, owner.principal, (await forum.create_topic(
            db, owner.principal, town.id, {"title": "Note", "body": ""})).id, reply.id)
