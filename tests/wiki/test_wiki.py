"""The wiki through its pages and API: writing, editing (and the conflict page), history, diff, restore, moving,
and who may see any of it."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from socius.communities import service as communities
from socius.content.models import Item
from socius.wiki import service
from socius.wiki.models import WikiRevision


@pytest.fixture
async def wiki(db, make_person, community, member):
    """A restricted community whose members are `member` and its owner, with a page."""
    owner = await make_person("Owner Ou", username="owner")
    team = await community(owner, "研發部知識庫", access="restricted", members=[member])
    page = await service.create_page(db, owner.principal, team.id, {"title": "部署手冊", "body": "第一步：備份\n"})
    await db.flush()
    return team, owner, page


async def _form_version(client, url: str) -> str:
    text = (await client.get(url)).text
    return re.search(r'name="version" value="(\d+)"', text).group(1)


async def test_a_member_writes_edits_and_reads_the_history(client, login, db, member, wiki):
    team, _owner, page = wiki
    token = await login(client, member)
    made = await client.post(f"/communities/{team.id}/wiki/new", data={
        "csrf_token": token, "title": "Rollback plan", "body": "# Steps\n\n1. stop\n", "parent_id": str(page.id)})
    assert made.status_code == 303
    url = made.headers["location"]
    assert url == f"/communities/{team.id}/wiki/rollback-plan"
    shown = await client.get(url)
    assert "<h1>Steps</h1>" in shown.text and "部署手冊" in shown.text  # rendered, with its parent in the crumbs
    assert 'id="social"' in shown.text

    version = await _form_version(client, url + "/edit")
    saved = await client.post(url + "/edit", data={"csrf_token": token, "version": version, "title": "Rollback plan",
                                                   "body": "# Steps\n\n1. stop\n2. <script>alert(1)</script>\n",
                                                   "comment": "second step"})
    assert saved.status_code == 303
    history = await client.get(url + "/history")
    assert "Revision 2" in history.text and "second step" in history.text

    diff = await client.get(url + "/diff", params={"from": 1, "to": 2})
    assert diff.status_code == 200
    assert '<ins class="added">+ 2. &lt;script&gt;alert(1)&lt;/script&gt;</ins>' in diff.text
    assert "<script>alert(1)" not in diff.text

    parent = await client.get(f"/communities/{team.id}/wiki/{page.page.slug}")
    assert "Rollback plan" in parent.text  # listed among the pages below


async def test_the_second_editor_gets_the_conflict_page_and_nothing_is_overwritten(app, client, login, db, member,
                                                                                  wiki):
    import httpx

    _team, owner, page = wiki
    url = page.url
    first_token = await login(client, member)
    first_version = await _form_version(client, url + "/edit")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver",
                                 headers={"Accept-Language": "en"}) as other:
        second_token = await login(other, owner)
        second_version = await _form_version(other, url + "/edit")
        assert first_version == second_version
        won = await other.post(url + "/edit", data={"csrf_token": second_token, "version": second_version,
                                                    "title": "部署手冊", "body": "第一步：通知客戶\n"})
        assert won.status_code == 303
    lost = await client.post(url + "/edit", data={"csrf_token": first_token, "version": first_version,
                                                  "title": "部署手冊", "body": "第一步：關閉服務\n"})
    assert lost.status_code == 409
    assert "Someone else saved this page" in lost.text
    assert "第一步：關閉服務" in lost.text and "第一步：通知客戶" in lost.text  # their text and the current one
    current = await service.get_page(db, owner.principal, page.id)
    await db.refresh(current.item)
    assert current.item.body_md == "第一步：通知客戶\n"
    assert await db.scalar(select(func.count()).select_from(WikiRevision).where(WikiRevision.item_id == page.id)) == 2
    # The conflict page's form carries the current version: saving the merge now works.
    merged = await client.post(url + "/edit", data={
        "csrf_token": first_token, "version": re.search(r'name="version" value="(\d+)"', lost.text).group(1),
        "title": "部署手冊", "body": "第一步：通知客戶\n第二步：關閉服務\n"})
    assert merged.status_code == 303


async def test_restore_brings_back_an_old_revision_as_a_new_one(client, login, db, member, wiki):
    _team, owner, page = wiki
    await service.edit_page(db, owner.principal, page.id, {"body": "壞掉的版本\n"}, expected_version=1)
    await db.flush()
    token = await login(client, member)
    old = await client.get(page.url + "/revisions/1")
    assert "第一步：備份" in old.text and "Restore this revision" in old.text
    restored = await client.post(page.url + "/restore", data={"csrf_token": token, "revision": "1", "version": "2"})
    assert restored.status_code == 303
    rows = await service.revisions(db, member.principal, page.id)
    assert [(r.number, r.body_md, r.restored_from) for r in rows] == [
        (3, "第一步：備份\n", 1), (2, "壞掉的版本\n", None), (1, "第一步：備份\n", None)]
    assert "Restored revision 1" in (await client.get(page.url + "/history")).text
    stale = await client.post(page.url + "/restore", data={"csrf_token": token, "revision": "2", "version": "2"})
    assert stale.status_code == 409  # restoring from a stale page is a conflict too


async def test_a_page_cannot_move_under_itself_or_its_descendants(db, member, wiki):
    team, _owner, top = wiki
    child = await service.create_page(db, member.principal, team.id, {"title": "子頁", "parent_id": top.id})
    grandchild = await service.create_page(db, member.principal, team.id, {"title": "孫頁", "parent_id": child.id})
    for target in (top.id, child.id, grandchild.id):
        with pytest.raises(service.ValidationFailed) as refused:
            await service.move(db, member.principal, top.id, target)
        assert refused.value.by_field().keys() == {"parent_id"}
    await service.move(db, member.principal, grandchild.id, None)
    roots = await service.tree(db, member.principal, team)
    assert [n.item.title for n in roots] == ["部署手冊", "孫頁"]
    assert [n.item.title for n in roots[0].children] == ["子頁"]


async def test_api_pages_edit_conflict_diff_and_restore(app, bearer, member, wiki):
    team, _owner, page = wiki
    api = await bearer(app, member)
    made = await api.post(f"/api/v1/communities/{team.id}/wiki/pages",
                          json={"title": "FAQ", "body": "Q1\n", "parent_id": page.id})
    assert made.status_code == 201, made.text
    faq = made.json()
    assert faq["slug"] == "faq" and faq["version"] == 1 and faq["parent_id"] == page.id
    tree = (await api.get(f"/api/v1/communities/{team.id}/wiki/pages")).json()["items"]
    assert [(n["title"], [c["title"] for c in n["children"]]) for n in tree] == [("部署手冊", ["FAQ"])]

    ok = await api.put(f"/api/v1/wiki/pages/{faq['id']}", json={"version": 1, "body": "Q1\nQ2\n"})
    assert ok.status_code == 200 and ok.json()["version"] == 2
    stale = await api.put(f"/api/v1/wiki/pages/{faq['id']}", json={"version": 1, "body": "mine\n"})
    assert stale.status_code == 409
    assert (await api.get(f"/api/v1/wiki/pages/{faq['id']}")).json()["body"] == "Q1\nQ2\n"

    revisions = (await api.get(f"/api/v1/wiki/pages/{faq['id']}/revisions")).json()["items"]
    assert [r["number"] for r in revisions] == [2, 1]
    assert (await api.get(f"/api/v1/wiki/pages/{faq['id']}/revisions/1")).json()["body"] == "Q1\n"
    diff = (await api.get(f"/api/v1/wiki/pages/{faq['id']}/diff", params={"from": 1, "to": 2})).json()
    assert {"op": "added", "text": "Q2"} in diff["lines"] and diff["from"] == 1
    back = await api.post(f"/api/v1/wiki/pages/{faq['id']}/restore", json={"revision": 1, "version": 2})
    assert back.status_code == 200 and back.json()["body"] == "Q1\n" and back.json()["version"] == 3
    for bad in ("/revisions/99", "/revisions/99999999999999999999", "/diff?from=1&to=x"):
        assert (await api.get(f"/api/v1/wiki/pages/{faq['id']}{bad}")).status_code in (404, 422)
    cycle = await api.put(f"/api/v1/wiki/pages/{page.id}", json={"version": 1, "parent_id": faq["id"]})
    assert cycle.status_code == 422 and cycle.json()["error"]["fields"][0]["field"] == "parent_id"
    await api.aclose()


async def test_who_sees_the_wiki_of_a_restricted_community(app, client, login, bearer, db, make_person, admin,
                                                            guest, member, wiki):
    team, _owner, page = wiki
    outsider = await make_person("Outsider")
    paths = [f"/communities/{team.id}/wiki", page.url, page.url + "/history", page.url + "/revisions/1",
             page.url + "/diff?from=1&to=1", page.url + "/edit"]
    api_paths = [f"/api/v1/communities/{team.id}/wiki/pages", f"/api/v1/wiki/pages/{page.id}",
                 f"/api/v1/wiki/pages/{page.id}/revisions", f"/api/v1/wiki/pages/{page.id}/revisions/1",
                 f"/api/v1/wiki/pages/{page.id}/diff?from=1&to=1"]
    for someone, expected, writes in ((outsider, 404, 404), (guest, 404, 404), (member, 200, 200),
                                      (admin, 200, 403)):
        client.cookies.clear()
        token = await login(client, someone)
        for path in paths:
            assert (await client.get(path)).status_code == expected, (someone.username, path)
        # Administrators read and moderate every wiki; only members start pages.
        assert (await client.get(f"/communities/{team.id}/wiki/new")).status_code == writes
        version = await db.scalar(select(Item.version).where(Item.id == page.id))
        edit = await client.post(page.url + "/edit", data={"csrf_token": token, "version": str(version),
                                                           "title": f"部署手冊 ({someone.username})"})
        assert edit.status_code == (404 if expected == 404 else 303), someone.username
        api = await bearer(app, someone)
        for path in api_paths:
            assert (await api.get(path)).status_code == expected, (someone.username, path)
        created = await api.post(f"/api/v1/communities/{team.id}/wiki/pages", json={"title": f"by {someone.id}"})
        assert created.status_code == (201 if writes == 200 else writes), someone.username
        await api.aclose()


async def test_a_guest_member_edits_and_leaving_closes_the_wiki(client, login, db, make_person, community, guest):
    owner = await make_person("Owner")
    shared = await community(owner, "Partners", access="restricted", members=[guest])
    page = await service.create_page(db, owner.principal, shared.id, {"title": "Contacts", "body": "a\n"})
    await db.flush()
    token = await login(client, guest)
    saved = await client.post(page.url + "/edit", data={"csrf_token": token, "version": "1", "title": "Contacts",
                                                        "body": "a\nb\n"})
    assert saved.status_code == 303
    await communities.leave(db, guest.principal, shared.id)
    await db.flush()
    assert (await client.get(page.url)).status_code == 404
    assert (await client.get(page.url + "/diff?from=1&to=2")).status_code == 404


async def test_public_wiki_is_read_by_employees_but_only_members_write(client, login, db, make_person, community):
    owner = await make_person("Owner")
    reader = await make_person("Reader")
    open_team = await community(owner, "Open", access="public")
    page = await service.create_page(db, owner.principal, open_team.id, {"title": "Welcome", "body": "hi"})
    await db.flush()
    token = await login(client, reader)
    assert "Welcome" in (await client.get(f"/communities/{open_team.id}/wiki")).text
    assert (await client.get(page.url + "/edit")).status_code == 403
    refused = await client.post(page.url + "/edit", data={"csrf_token": token, "version": "1", "title": "x"})
    assert refused.status_code == 403
    assert (await client.post(f"/communities/{open_team.id}/wiki/new",
                              data={"csrf_token": token, "title": "mine"})).status_code == 403


async def test_bad_input_is_a_422_naming_the_field(client, login, member, wiki):
    team, _owner, page = wiki
    token = await login(client, member)
    empty = await client.post(f"/communities/{team.id}/wiki/new", data={"csrf_token": token, "title": " "})
    assert empty.status_code == 422 and 'id="title-error"' in empty.text
    foreign = await client.post(f"/communities/{team.id}/wiki/new",
                                data={"csrf_token": token, "title": "x", "parent_id": "999999999999"})
    assert foreign.status_code == 422 and 'id="parent_id-error"' in foreign.text
    assert (await client.post(page.url + "/edit", data={"csrf_token": token, "version": "abc",
                                                        "title": "x"})).status_code == 422
    assert (await client.get(page.url + "/revisions/99999999999999999999999")).status_code in (404, 422)
    assert (await client.get(f"/communities/{team.id}/wiki/{'x' * 500}")).status_code == 404
