"""The communities pages as people use them: the catalog, creating, the overview, members, settings,
moderation — and a restricted community reaching nobody outside it."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from socius.communities import service
from socius.communities.models import Community, Membership
from socius.content import service as content
from socius.core.errors import NotFound
from tests.conftest import csrf_from


@pytest.fixture
async def secret(db, make_person, community, guest):
    owner = await make_person("Owner", username="owner")
    insider = await make_person("Insider", username="insider")
    outsider = await make_person("Outsider", username="outsider")
    made = await community(owner, "併購小組", access="restricted", members=[insider], description="機密的收購計畫")
    await community(owner, "Partners", access="restricted", members=[guest])
    topic = await content.create_item(db, owner.principal, kind="topic", community=made,
                                      values={"title": "收購對象", "body": "名單在此"})
    await content.report(db, insider.principal, topic.id, "離題")
    await db.flush()
    return {"owner": owner, "insider": insider, "outsider": outsider, "community": made, "topic": topic}


async def test_a_restricted_community_is_a_404_on_every_page_for_outsiders(client, login, secret, guest, admin):
    c, topic = secret["community"], secret["topic"]
    pages = [f"/communities/{c.id}", f"/communities/{c.id}/members", f"/communities/{c.id}/moderation",
             f"/communities/{c.id}/settings", f"/communities/{c.id}/members/candidates?q=a", f"/items/{topic.id}"]
    for someone in (secret["outsider"], guest):
        await login(client, someone)
        for path in pages:
            response = await client.get(path)
            assert response.status_code == 404, (someone.username, path)
            assert "併購" not in response.text and "收購" not in response.text
        for query in ("", "?q=併購", "?q=并购", "?mine=1", "?archived=1"):
            listed = (await client.get("/communities" + query)).text
            assert "併購小組" not in listed and f"/communities/{c.id}" not in listed
        for q in ("收購對象", "併購小組"):
            found = (await client.get("/search", params={"q": q})).text
            assert f"/communities/{c.id}" not in found and f"/items/{topic.id}" not in found
        assert (await client.get("/admin/moderation")).status_code == 404
        client.cookies.clear()
    # A member reads it (folded search finds it) but does not moderate or manage it.
    await login(client, secret["insider"])
    page = await client.get(f"/communities/{c.id}")
    assert page.status_code == 200 and "機密的收購計畫" in page.text and "Restricted" in page.text
    for app_link in ("forum", "blog", "wiki", "files", "bookmarks", "members"):
        assert f'href="/communities/{c.id}/{app_link}"' in page.text
    assert "併購小組" in (await client.get("/communities?q=并购")).text
    assert (await client.get(f"/communities/{c.id}/moderation")).status_code == 404
    assert (await client.get(f"/communities/{c.id}/settings")).status_code == 404
    members = await client.get(f"/communities/{c.id}/members")
    assert "Requests to join" not in members.text and "Owner" in members.text
    client.cookies.clear()
    # The administrator reads and moderates everything.
    await login(client, admin)
    assert "收購對象" in (await client.get(f"/communities/{c.id}/moderation")).text
    queue = await client.get("/admin/moderation")
    assert "收購對象" in queue.text and "離題" in queue.text and "併購小組" in queue.text


async def test_leaving_a_restricted_community_closes_it_at_once(client, login, secret):
    c, topic = secret["community"], secret["topic"]
    token = await login(client, secret["insider"])
    page = await client.get(f"/items/{topic.id}", follow_redirects=True)
    assert page.status_code == 200 and topic.title in page.text
    response = await client.post(f"/communities/{c.id}/leave", data={"csrf_token": token})
    assert response.status_code == 303 and response.headers["location"] == "/communities"
    assert (await client.get(f"/items/{topic.id}")).status_code == 404
    assert (await client.get(str(page.url))).status_code == 404
    assert (await client.get(f"/communities/{c.id}")).status_code == 404


async def test_create_join_ask_and_approve_through_the_pages(client, login, make_person, db):
    owner = await make_person("Owner", username="owner")
    joiner = await make_person("Joiner", username="joiner")
    token = await login(client, owner)
    response = await client.post("/communities/new", data={
        "csrf_token": token, "name": "品質管理", "description": "**每週**例會", "access": "moderated",
        "tags": "品質, ISO"})
    assert response.status_code == 303
    cid = int(response.headers["location"].rsplit("/", 1)[1])
    page = await client.get(f"/communities/{cid}")
    assert "<strong>每週</strong>" in page.text and "Moderated" in page.text and "You are an owner" in page.text
    catalog = await client.get("/communities?tag=ISO")
    assert "品質管理" in catalog.text and "1 member" in catalog.text
    client.cookies.clear()

    token = await login(client, joiner)
    assert "Ask to join" in (await client.get(f"/communities/{cid}")).text
    await client.post(f"/communities/{cid}/join", data={"csrf_token": token})
    assert "You asked to join" in (await client.get(f"/communities/{cid}")).text
    assert "品質管理" not in (await client.get("/communities?mine=1")).text
    client.cookies.clear()

    token = await login(client, owner)
    members = await client.get(f"/communities/{cid}/members")
    assert "Joiner" in members.text.split("Requests to join")[1]
    response = await client.post(f"/communities/{cid}/requests/{joiner.id}/approve", data={"csrf_token": token})
    assert response.status_code == 303
    members = await client.get(f"/communities/{cid}/members")
    assert "No requests." in members.text
    row = await db.get(Membership, (cid, joiner.id))
    assert row.state == "active"
    # Owners change roles; the archive stops changes.
    await client.post(f"/communities/{cid}/members/{joiner.id}/role", data={"csrf_token": token, "role": "moderator"})
    await db.refresh(row)
    assert row.role == "moderator"
    await client.post(f"/communities/{cid}/archive", data={"csrf_token": token, "archived": "1"})
    assert "This community is archived" in (await client.get(f"/communities/{cid}")).text
    assert "品質管理" not in (await client.get("/communities")).text
    assert "品質管理" in (await client.get("/communities?archived=1")).text


async def test_bad_form_input_shows_why_and_creates_nothing(client, login, make_person, db):
    owner = await make_person("Owner", username="owner")
    token = await login(client, owner)
    before = await db.scalar(select(func.count()).select_from(Community))
    for data, message in (({"name": ""}, "must not be empty"), ({"name": "名" * 1000}, "at most 200"),
                          ({"name": "Fine", "access": "secret"}, "must be one of"),
                          ({"name": "Fine", "parent_id": "99999999999999999999999"}, "must be the id")):
        response = await client.post("/communities/new", data={"csrf_token": token, "access": "public", **data})
        assert response.status_code == 422, data
        assert message in response.text and 'class="field-error"' in response.text
    assert await db.scalar(select(func.count()).select_from(Community)) == before
    assert (await client.get("/communities/abc")).status_code == 422
    assert (await client.get(f"/communities/{2**70}")).status_code == 404


async def test_inviting_from_the_directory_search(client, login, make_person, community, db):
    owner = await make_person("Owner", username="owner")
    await make_person("王小明", username="xiaoming", name_native="王小明", name_latin="Wang Xiao-ming")
    made = await community(owner, "Closed", access="restricted")
    token = await login(client, owner)
    found = await client.get(f"/communities/{made.id}/members/candidates", params={"q": "wang"},
                             headers={"HX-Request": "true"})
    assert "王小明" in found.text
    person_id = int(re.search(r'name="person_id" value="(\d+)"', found.text).group(1))
    response = await client.post(f"/communities/{made.id}/members/invite",
                                 data={"csrf_token": token, "person_id": str(person_id)})
    assert response.status_code == 303
    page = await client.get(f"/communities/{made.id}/members?done=invited")
    assert "The invitations are sent." in page.text
    assert "王小明" in page.text.split("Invited, not answered yet")[1]


async def test_moderators_hide_and_dismiss_from_the_queue(client, login, make_person, community, db):
    owner = await make_person("Owner", username="owner")
    member = await make_person("Member", username="member2")
    made = await community(owner, "Open", members=[member])
    one = await content.create_item(db, member.principal, kind="entry", community=made,
                                    values={"title": "Spam here", "body": "buy"})
    two = await content.create_item(db, member.principal, kind="entry", community=made,
                                    values={"title": "Fine post", "body": "ok"})
    for item in (one, two):
        await content.report(db, owner.principal, item.id, "check")
    await db.flush()
    token = await login(client, owner)
    back = f"/communities/{made.id}/moderation"
    assert "Spam here" in (await client.get(back)).text
    response = await client.post(f"/moderation/items/{one.id}", data={"csrf_token": token, "action": "hide",
                                                                       "next": back})
    assert response.status_code == 303 and response.headers["location"] == back
    await client.post(f"/moderation/items/{two.id}", data={"csrf_token": token, "action": "dismiss", "next": back})
    assert "Nothing reported" in (await client.get(back)).text
    with pytest.raises(NotFound):
        await content.get_item(db, member.principal, one.id)
    assert (await content.get_item(db, member.principal, two.id)).hidden_at is None
    client.cookies.clear()
    token = await login(client, member)
    response = await client.post(f"/moderation/items/{two.id}", data={"csrf_token": token, "action": "hide"})
    assert response.status_code == 403


async def test_subcommunity_form_offers_the_owners_communities(client, login, make_person, community):
    owner = await make_person("Owner", username="owner")
    parent = await community(owner, "Parent")
    token = await login(client, owner)
    form = await client.get(f"/communities/new?parent={parent.id}")
    assert f'<option value="{parent.id}" selected>' in form.text
    response = await client.post("/communities/new", data={"csrf_token": token, "name": "Child",
                                                           "access": "public", "parent_id": str(parent.id)})
    child = int(response.headers["location"].rsplit("/", 1)[1])
    page = await client.get(f"/communities/{parent.id}")
    assert f'href="/communities/{child}"' in page.text
    assert "Parent" in (await client.get(f"/communities/{child}")).text


async def test_the_main_nav_and_catalog_csrf(client, login, make_person, db):
    someone = await make_person("Someone", username="someone")
    await login(client, someone)
    page = await client.get("/people")
    assert '<a href="/communities">Communities</a>' in page.text
    assert await csrf_from(client, "/communities/new")
    assert (await client.post("/communities/new", data={"name": "x"})).status_code == 403
    assert await service.catalog(db, someone.principal, service.CatalogQuery(mine=True)) == []
