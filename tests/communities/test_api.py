"""The communities and content API, walked as every kind of caller: a restricted community reaches nobody
outside it, by any path; bad input names its field and changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from socius.communities.models import Community
from socius.content import service as content
from tests.conftest import csrf_from


@pytest.fixture
async def walk(db, make_person, community, guest, admin):
    """A restricted community with a topic, a comment and a report; and the people who try to read it."""
    owner = await make_person("Owner", username="owner")
    insider = await make_person("Insider", username="insider")
    outsider = await make_person("Outsider", username="outsider")
    secret = await community(owner, "併購小組", access="restricted", members=[insider],
                             description="機密的收購計畫", tags=["機密"])
    elsewhere = await community(owner, "Partners", access="restricted", members=[guest])
    topic = await content.create_item(db, owner.principal, kind="topic", community=secret,
                                      values={"title": "收購對象", "body": "名單在此"})
    reply = await content.comment(db, insider.principal, topic.id, "同意")
    await content.report(db, insider.principal, topic.id, "離題")
    await db.flush()
    return {"owner": owner, "insider": insider, "outsider": outsider, "guest": guest, "admin": admin,
            "secret": secret, "elsewhere": elsewhere, "topic": topic, "reply": reply}


def names(body: dict) -> list[str]:
    return [c["name"] for c in body["items"]]


async def test_a_restricted_community_reaches_no_outsider_by_any_path(api, walk, index_now):
    await index_now()
    secret, topic, reply = walk["secret"], walk["topic"], walk["reply"]
    reads = [f"/api/v1/communities/{secret.id}", f"/api/v1/communities/{secret.id}/members",
             f"/api/v1/communities/{secret.id}/subcommunities", f"/api/v1/items/{topic.id}",
             f"/api/v1/items/{topic.id}/comments", f"/api/v1/items/{reply.id}",
             f"/api/v1/moderation/reports?community_id={secret.id}"]
    for who in ("outsider", "guest"):
        client = await api(walk[who])
        for path in reads:
            response = await client.get(path)
            assert response.status_code == 404, (who, path, response.text)
            assert "併購" not in response.text and "收購" not in response.text
        for path, body in ((f"/api/v1/communities/{secret.id}/join", None),
                           (f"/api/v1/items/{topic.id}/comments", {"body": "hi"}),
                           (f"/api/v1/items/{topic.id}/report", {"reason": "x"}),
                           (f"/api/v1/items/{topic.id}/hide", None)):
            assert (await client.post(path, json=body)).status_code == 404, (who, path)
        assert (await client.put(f"/api/v1/items/{topic.id}/like")).status_code == 404
        assert names((await client.get("/api/v1/communities", params={"q": "併購"})).json()) == []
        queue = (await client.get("/api/v1/moderation/reports")).json()["items"]
        assert queue == []
        found = (await client.get("/api/v1/search", params={"q": "併購"})).json()
        assert found["items"] == [] and found["total"] == 0
        found = (await client.get("/api/v1/search", params={"q": "收購對象"})).json()
        assert found["items"] == []
    # The guest sees the one community they were invited to, nothing else.
    assert names((await (await api(walk["guest"])).get("/api/v1/communities")).json()) == ["Partners"]

    for who in ("insider", "admin"):
        client = await api(walk[who])
        body = (await client.get(f"/api/v1/communities/{secret.id}")).json()
        assert body["name"] == "併購小組" and body["access"] == "restricted"
        assert (await client.get(f"/api/v1/items/{topic.id}")).json()["title"] == "收購對象"
        comments = (await client.get(f"/api/v1/items/{topic.id}/comments")).json()["items"]
        assert [c["body_md"] for c in comments] == ["同意"]
        # Folded: the simplified query finds the traditional name.
        assert "併購小組" in names((await client.get("/api/v1/communities", params={"q": "并购"})).json())
    # A member is no moderator: the queue stays closed to them; the owner and the administrator see the report.
    assert (await (await api(walk["insider"])).get("/api/v1/moderation/reports")).json()["items"] == []
    for who in ("owner", "admin"):
        queue = (await (await api(walk[who])).get("/api/v1/moderation/reports")).json()["items"]
        assert [(e["item"]["id"], e["reports"], e["reasons"]) for e in queue] == [(topic.id, 1, ["離題"])]


async def test_members_requests_and_invitations_are_for_moderators(api, walk):
    secret = walk["secret"]
    insider = await api(walk["insider"])
    members = (await insider.get(f"/api/v1/communities/{secret.id}/members")).json()["items"]
    assert {(m["person"]["display_name"], m["role"]) for m in members} == {("Owner", "owner"), ("Insider", "member")}
    assert (await insider.get(f"/api/v1/communities/{secret.id}/members?state=invited")).status_code == 403
    response = await insider.post(f"/api/v1/communities/{secret.id}/members",
                                  json={"person_ids": [walk["outsider"].id]})
    assert response.status_code == 403
    owner = await api(walk["owner"])
    response = await owner.post(f"/api/v1/communities/{secret.id}/members", json={"person_ids": [walk["outsider"].id]})
    assert response.json()["person_ids"] == [walk["outsider"].id]
    invited = (await owner.get(f"/api/v1/communities/{secret.id}/members?state=invited")).json()["items"]
    assert [m["person"]["id"] for m in invited] == [walk["outsider"].id]
    # Invited: the name and description, to accept; no content yet.
    outsider = await api(walk["outsider"])
    assert (await outsider.get(f"/api/v1/communities/{secret.id}")).json()["my_state"] == "invited"
    assert (await outsider.get(f"/api/v1/items/{walk['topic'].id}")).status_code == 404
    assert (await outsider.post(f"/api/v1/communities/{secret.id}/join")).json()["state"] == "active"
    assert (await outsider.get(f"/api/v1/items/{walk['topic'].id}")).status_code == 200


async def test_leaving_removes_access_at_once(api, walk):
    secret, topic = walk["secret"], walk["topic"]
    client = await api(walk["insider"])
    assert (await client.get(f"/api/v1/items/{topic.id}")).status_code == 200
    assert (await client.post(f"/api/v1/communities/{secret.id}/leave")).status_code == 204
    assert (await client.get(f"/api/v1/items/{topic.id}")).status_code == 404
    assert (await client.get(f"/api/v1/communities/{secret.id}")).status_code == 404
    assert names((await client.get("/api/v1/communities", params={"mine": True})).json()) == []


async def test_moderated_join_approve_comment_like_report_hide(api, make_person, community, db):
    owner = await make_person("Owner")
    joiner = await make_person("Joiner")
    made = await community(owner, "Careful", access="moderated")
    post = await content.create_item(db, owner.principal, kind="entry", community=made,
                                     values={"title": "Hello", "body": "First post"})
    await db.flush()
    them, me = await api(joiner), await api(owner)
    assert (await them.post(f"/api/v1/communities/{made.id}/join")).json()["state"] == "requested"
    assert (await them.post(f"/api/v1/items/{post.id}/comments", json={"body": "hi"})).status_code == 403
    assert (await me.post(f"/api/v1/communities/{made.id}/requests/{joiner.id}/approve")).status_code == 204
    response = await them.post(f"/api/v1/items/{post.id}/comments", json={"body": "Thanks **all**"})
    assert response.status_code == 201
    comment = response.json()
    assert comment["author"]["id"] == joiner.id and "<strong>all</strong>" in comment["body_html"]
    assert comment["url"] == f"/items/{post.id}#item-{comment['id']}"
    liked = (await them.put(f"/api/v1/items/{post.id}/like")).json()
    assert liked["like_count"] == 1 and liked["liked"] is True and liked["comment_count"] == 1
    assert (await them.delete(f"/api/v1/items/{post.id}/like")).json()["like_count"] == 0
    assert (await them.post(f"/api/v1/items/{comment['id']}/report", json={"reason": "rude"})).status_code == 201
    assert (await them.post(f"/api/v1/items/{comment['id']}/hide")).status_code == 403
    assert (await me.post(f"/api/v1/items/{comment['id']}/hide")).json()["hidden"] is True
    assert (await them.get(f"/api/v1/items/{comment['id']}")).status_code == 404
    assert (await me.get("/api/v1/moderation/reports")).json()["items"] == []  # hiding settles the report
    assert (await me.post(f"/api/v1/items/{comment['id']}/restore")).json()["hidden"] is False
    assert (await them.get(f"/api/v1/items/{comment['id']}")).status_code == 200


async def test_owners_change_roles_settings_and_archive(api, make_person, community):
    owner = await make_person("Owner")
    other = await make_person("Other")
    made = await community(owner, "Team", members=[other])
    me, them = await api(owner), await api(other)
    assert (await them.patch(f"/api/v1/communities/{made.id}", json={"name": "Mine"})).status_code == 403
    response = await me.put(f"/api/v1/communities/{made.id}/members/{other.id}/role", json={"role": "moderator"})
    assert response.json()["role"] == "moderator"
    body = (await me.patch(f"/api/v1/communities/{made.id}", json={"description": "**We** ship",
                                                                   "tags": ["交付"]})).json()
    assert "<strong>We</strong>" in body["description_html"] and body["tags"] == ["交付"] and body["name"] == "Team"
    assert (await me.post(f"/api/v1/communities/{made.id}/archive")).json()["archived"] is True
    assert names((await them.get("/api/v1/communities")).json()) == []
    assert names((await them.get("/api/v1/communities", params={"archived": True})).json()) == ["Team"]
    assert (await them.post(f"/api/v1/communities/{made.id}/leave")).status_code == 204
    assert (await me.post(f"/api/v1/communities/{made.id}/unarchive")).json()["archived"] is False
    assert (await me.delete(f"/api/v1/communities/{made.id}/members/{owner.id}")).status_code == 409  # last owner


async def test_subcommunities(api, make_person, community):
    owner = await make_person("Owner")
    member = await make_person("Member")
    parent = await community(owner, "Parent", members=[member])
    me = await api(owner)
    response = await me.post("/api/v1/communities", json={"name": "Child", "parent_id": parent.id})
    assert response.status_code == 201 and response.json()["parent_id"] == parent.id
    response = await (await api(member)).post("/api/v1/communities", json={"name": "Mine", "parent_id": parent.id})
    assert response.status_code == 422 and response.json()["error"]["fields"][0]["field"] == "parent_id"
    listed = (await me.get(f"/api/v1/communities/{parent.id}/subcommunities")).json()
    assert names(listed) == ["Child"]


async def count(db) -> int:
    return await db.scalar(select(func.count()).select_from(Community))


@pytest.mark.parametrize(("body", "field"), [
    ({"name": ""}, "name"),
    ({"name": "   "}, "name"),
    ({"name": "長" * 1000}, "name"),
    ({"name": "Fine", "access": "secret"}, "access"),
    ({"name": 5}, "name"),
    ({"name": ["a"]}, "name"),
    ({"name": "Fine", "tags": "one"}, "tags"),
    ({"name": "Fine", "tags": ["x" * 51]}, "tags"),
    ({"name": "Fine", "parent_id": 2**70}, "parent_id"),
    ({"name": "Fine", "parent_id": -1}, "parent_id"),
    ({"name": "Fine", "parent_id": "12"}, "parent_id"),
    ({"name": "Fine", "owner": 1}, "owner"),
    ({}, "name"),
])
async def test_bad_input_is_a_422_naming_the_field_and_nothing_is_created(api, make_person, db, body, field):
    someone = await make_person("Someone")
    before = await count(db)
    response = await (await api(someone)).post("/api/v1/communities", json=body)
    assert response.status_code == 422, response.text
    assert field in [f["field"] for f in response.json()["error"]["fields"]]
    assert await count(db) == before


async def test_bad_ids_and_types_elsewhere(api, make_person, community):
    owner = await make_person("Owner")
    made = await community(owner, "Team")
    client = await api(owner)
    response = await client.get("/api/v1/communities/abc")
    assert response.status_code == 422 and response.json()["error"]["fields"][0]["field"] == "community_id"
    for path in (f"/api/v1/communities/{2**70}", "/api/v1/communities/0", f"/api/v1/items/{2**63}",
                 f"/api/v1/items/{2**70}/comments"):
        assert (await client.get(path)).status_code == 404, path
    for body, field in (({"person_ids": ["a"]}, "person_ids.0"), ({"person_ids": [2**70]}, "person_ids"),
                        ({"person_ids": []}, "person_ids"), ({"emails": ["not-an-address"]}, "emails"),
                        ({"emails": "a@b.example"}, "emails")):
        response = await client.post(f"/api/v1/communities/{made.id}/members", json=body)
        assert response.status_code == 422, (body, response.text)
        assert field in [f["field"] for f in response.json()["error"]["fields"]], body
    response = await client.put(f"/api/v1/communities/{made.id}/members/{owner.id}/role", json={"role": "king"})
    assert response.status_code == 422 and response.json()["error"]["fields"][0]["field"] == "role"
    response = await client.patch(f"/api/v1/communities/{made.id}", json={"name": None})
    assert response.status_code == 422 and response.json()["error"]["fields"][0]["field"] == "name"
    response = await client.get("/api/v1/communities", params={"limit": 10_000})
    assert response.status_code == 422 and response.json()["error"]["fields"][0]["field"] == "limit"
    response = await client.get(f"/api/v1/communities/{made.id}/members", params={"state": "banned"})
    assert response.status_code == 422 and response.json()["error"]["fields"][0]["field"] == "state"
    response = await client.post("/api/v1/items/1/comments", content=b"{not json", headers={
        "content-type": "application/json"})
    assert response.status_code == 422


async def test_cookie_requests_without_a_csrf_token_are_refused(client, login, make_person, db):
    someone = await make_person("Someone")
    token = await login(client, someone)
    before = await count(db)
    response = await client.post("/api/v1/communities", json={"name": "No token"})
    assert response.status_code == 403
    response = await client.post("/communities/new", data={"name": "No token", "access": "public"})
    assert response.status_code == 403
    assert await count(db) == before
    response = await client.post("/api/v1/communities", json={"name": "With token"},
                                 headers={"X-CSRF-Token": token})
    assert response.status_code == 201
    assert await csrf_from(client, "/communities/new")


async def test_the_catalogs_tag_filter_folds_scripts_case_and_spacing(api, make_person, community):
    owner = await make_person("Owner")
    mainland = await community(owner, "开发者之家", tags=["软件", "Machine  Learning"])
    taiwan = await community(owner, "開發者社群", tags=["軟體"])
    await community(owner, "Other", tags=["硬體"])
    client = await api(owner)

    async def tagged(tag: str) -> list[str]:
        return names((await client.get("/api/v1/communities", params={"tag": tag})).json())

    for spelling in ("軟體", "软件", "#軟體"):
        assert sorted(await tagged(spelling)) == sorted([mainland.name, taiwan.name])
    assert await tagged("machine learning") == await tagged("MACHINE   LEARNING") == [mainland.name]
    listed = (await client.get("/api/v1/communities", params={"tag": "软件"})).json()
    assert {tuple(c["tags"]) for c in listed["items"]} == {("软件", "Machine Learning"), ("軟體",)}  # as typed

    # A change of tags changes what finds it.
    assert (await client.patch(f"/api/v1/communities/{taiwan.id}", json={"tags": ["雲端"]})).status_code == 200
    assert await tagged("軟體") == [mainland.name] and await tagged("云端") == [taiwan.name]


async def test_hiding_a_topic_hides_its_replies_from_search(db, api, make_person, community, index_now):
    owner = await make_person("Owner", username="owner")
    member = await make_person("Member", username="member")
    reader = await make_person("Reader", username="reader")
    place = await community(owner, "工地", members=[member, reader])
    topic = await content.create_item(db, owner.principal, kind="topic", community=place,
                                      values={"title": "混凝土配比", "body": "討論"})
    await content.comment(db, member.principal, topic.id, "鋯石添加劑的比例")
    await index_now()
    client = await api(reader)

    async def found() -> tuple[list[str], int]:
        body = (await client.get("/api/v1/search", params={"q": "鋯石添加劑"})).json()
        return [i["kind"] for i in body["items"]], body["total"]

    assert await found() == (["reply"], 1)
    await content.set_hidden(db, owner.principal, topic.id, True)
    await db.flush()
    # Before the indexer runs, the hit is already refused when hydrated: its parent is hidden.
    assert (await found())[0] == []
    await index_now()
    assert await found() == ([], 0)  # and then it is out of the index: not counted either
    await content.set_hidden(db, owner.principal, topic.id, False)
    await index_now()
    assert await found() == (["reply"], 1)


async def test_a_guest_finds_the_members_of_their_communities_and_no_one_else(api, walk, db, index_now):
    from socius.communities import service as communities

    await index_now()
    client = await api(walk["guest"])

    async def people(q: str) -> list[str]:
        body = (await client.get("/api/v1/search", params={"q": q, "kind": "person"})).json()
        assert body["total"] == len(body["items"])  # nothing counted that is not shown
        return [i["title"] for i in body["items"]]

    assert await people("Owner") == ["Owner"]  # owns "Partners", where the guest is a member
    assert await people("Insider") == [] and await people("Outsider") == []
    await communities.remove_member(db, walk["owner"].principal, walk["elsewhere"].id, walk["guest"].id)
    await index_now()
    assert await people("Owner") == []
