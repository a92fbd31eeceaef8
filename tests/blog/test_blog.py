"""The blog: entries newest first, comments, tags, conflict-checked editing, by page and API, for members,
non-members, guests and administrators; archived and restricted communities; search."""

from __future__ import annotations

from sqlalchemy import select

from socius.blog import service as blog
from socius.communities import service as communities
from socius.content.models import Item
from socius.search import service as search
from socius.search.service import SearchRequest


async def test_write_read_comment_and_edit_an_entry_through_the_pages(db, make_person, community, browser):
    owner = await make_person("Owner")
    writer = await make_person("Writer")
    reader = await make_person("Reader")
    town = await community(owner, "工程部落格", members=[writer, reader])
    me = await browser(writer)
    assert "New blog entry" in (await me.get(f"/communities/{town.id}/blog")).text
    assert (await me.get(f"/communities/{town.id}/blog/new")).status_code == 200
    response = await me.post(f"/communities/{town.id}/blog", {"title": "夏季澆置的經驗", "body": "先**灑水**降溫",
                                                              "tags": "混凝土，施工"})
    assert response.status_code == 303, response.text
    url = response.headers["location"]
    entry_id = int(url.rsplit("/", 1)[1])
    page = await me.get(url)
    assert "<strong>灑水</strong>" in page.text and "施工" in page.text
    await blog.create_entry(db, writer.principal, town.id, {"title": "較新的一篇", "body": "x"})
    await db.flush()
    listing = await me.get(f"/communities/{town.id}/blog")
    assert listing.text.index("較新的一篇") < listing.text.index("夏季澆置的經驗")  # newest first
    tagged = await me.get(f"/communities/{town.id}/blog?tag=施工")
    assert "夏季澆置的經驗" in tagged.text and "較新的一篇" not in tagged.text

    them = await browser(reader)
    assert (await them.post(f"/items/{entry_id}/comments", {"body": "很實用"})).status_code == 303
    assert "很實用" in (await me.get(url)).text
    assert (await them.get(f"{url}/edit")).status_code == 404  # not theirs
    assert (await them.post(f"{url}/edit", {"title": "x", "body": "y", "version": "1"})).status_code == 403
    form = await me.get(f"{url}/edit")
    assert 'name="version" value="1"' in form.text and "夏季澆置的經驗" in form.text
    response = await me.post(f"{url}/edit", {"title": "夏季澆置", "body": "改過", "tags": "", "version": "1"})
    assert response.status_code == 303
    assert await db.scalar(select(Item.title).where(Item.id == entry_id)) == "夏季澆置"


async def test_who_may_do_what(db, make_person, community, admin, guest, browser, api):
    owner = await make_person("Owner")
    outsider = await make_person("Outsider")
    town = await community(owner, "Open")
    secret = await community(owner, "Secret", access="restricted")
    open_entry = await blog.create_entry(db, owner.principal, town.id, {"title": "Open entry", "body": "x"})
    secret_entry = await blog.create_entry(db, owner.principal, secret.id, {"title": "Secret entry", "body": "x"})
    await db.flush()
    them, client = await browser(outsider), await api(outsider)
    # Public: a non-member reads, may not write.
    assert "Open entry" in (await them.get(f"/communities/{town.id}/blog")).text
    assert (await them.get(f"/communities/{town.id}/blog/{open_entry.id}")).status_code == 200
    assert (await them.get(f"/communities/{town.id}/blog/new")).status_code == 403
    assert (await them.post(f"/communities/{town.id}/blog", {"title": "x"})).status_code == 403
    assert (await client.get(f"/api/v1/blog/entries/{open_entry.id}")).json()["title"] == "Open entry"
    assert (await client.post(f"/api/v1/communities/{town.id}/blog/entries", json={"title": "x"})).status_code == 403
    assert (await client.patch(f"/api/v1/blog/entries/{open_entry.id}", json={"version": 1})).status_code == 403
    assert (await client.delete(f"/api/v1/blog/entries/{open_entry.id}")).status_code == 403
    # Restricted: nothing exists for them.
    inside = f"/communities/{secret.id}/blog"
    for path in (inside, f"{inside}/new", f"{inside}/{secret_entry.id}", f"{inside}/{secret_entry.id}/edit"):
        assert (await them.get(path)).status_code == 404, path
    assert (await them.post(f"/communities/{secret.id}/blog", {"title": "x"})).status_code == 404
    for method, path in (("GET", f"/api/v1/communities/{secret.id}/blog/entries"),
                         ("GET", f"/api/v1/blog/entries/{secret_entry.id}"),
                         ("DELETE", f"/api/v1/blog/entries/{secret_entry.id}")):
        assert (await client.request(method, path)).status_code == 404, path
    response = await client.post(f"/api/v1/communities/{secret.id}/blog/entries", json={"title": "x"})
    assert response.status_code == 404
    # A guest reads neither; an administrator reads both and moderates.
    assert (await (await browser(guest)).get(f"/communities/{town.id}/blog")).status_code == 404
    assert (await (await api(guest)).get(f"/api/v1/blog/entries/{open_entry.id}")).status_code == 404
    boss = await api(admin)
    assert (await boss.get(f"/api/v1/communities/{secret.id}/blog/entries")).json()["items"][0]["title"] == \
        "Secret entry"
    assert (await boss.delete(f"/api/v1/blog/entries/{secret_entry.id}")).status_code == 204
    assert (await boss.get(f"/api/v1/blog/entries/{secret_entry.id}")).status_code == 404
    # The owner writes, edits and deletes through the API.
    mine = await api(owner)
    response = await mine.post(f"/api/v1/communities/{town.id}/blog/entries",
                               json={"title": "API entry", "body": "# Heading", "tags": ["api"]})
    assert response.status_code == 201 and "<h1>Heading</h1>" in response.json()["body_html"]
    made = response.json()
    assert made["url"] == f"/communities/{town.id}/blog/{made['id']}"
    listing = (await mine.get(f"/api/v1/communities/{town.id}/blog/entries", params={"limit": 1})).json()
    assert [e["title"] for e in listing["items"]] == ["API entry"] and listing["window"]["next_offset"] == 1


async def test_archived_blog_is_read_only_and_stale_edits_conflict(db, make_person, community, browser, api):
    owner = await make_person("Owner")
    town = await community(owner, "Town")
    entry = await blog.create_entry(db, owner.principal, town.id, {"title": "First", "body": "v1"})
    await db.flush()
    client = await api(owner)
    response = await client.patch(f"/api/v1/blog/entries/{entry.id}", json={"version": 1, "body": "v2"})
    assert response.status_code == 200
    response = await client.patch(f"/api/v1/blog/entries/{entry.id}", json={"version": 1, "body": "lost?"})
    assert response.status_code == 409 and response.json()["error"]["code"] == "conflict"
    me = await browser(owner)
    response = await me.post(f"/communities/{town.id}/blog/{entry.id}/edit",
                             {"title": "First", "body": "我的版本", "tags": "", "version": "1"})
    assert response.status_code == 409 and "我的版本" in response.text and "v2" in response.text
    assert await db.scalar(select(Item.body_md).where(Item.id == entry.id)) == "v2"

    await communities.set_archived(db, owner.principal, town.id, True)
    await db.flush()
    listing = await me.get(f"/communities/{town.id}/blog")
    assert listing.status_code == 200 and "First" in listing.text and "New blog entry" not in listing.text
    assert (await me.get(f"/communities/{town.id}/blog/new")).status_code == 409
    assert (await me.post(f"/communities/{town.id}/blog", {"title": "x"})).status_code == 409
    assert (await client.post(f"/api/v1/communities/{town.id}/blog/entries", json={"title": "x"})).status_code == 409
    assert (await client.patch(f"/api/v1/blog/entries/{entry.id}", json={"version": 2, "body": "x"})).status_code == 403
    assert (await me.get(f"/communities/{town.id}/blog/{entry.id}/edit")).status_code == 404


async def test_bad_input(db, make_person, community, browser, api):
    owner = await make_person("Owner")
    town = await community(owner, "Town")
    client = await api(owner)
    base = f"/api/v1/communities/{town.id}/blog/entries"
    for body, field in (({"title": ""}, "title"), ({"title": "x", "body": "b" * 100_001}, "body"),
                        ({"title": "x", "tags": ["t"] * 21}, "tags"), ({"title": ["x"]}, "title"),
                        ({"title": "x", "body": "a\x00b"}, "body")):
        response = await client.post(base, json=body)
        assert response.status_code == 422, body
        assert field in {f["field"] for f in response.json()["error"]["fields"]}, (body, response.text)
    for params in ({"limit": "many"}, {"offset": 10**9}):
        assert (await client.get(base, params=params)).status_code == 422
    assert (await client.get(f"/api/v1/blog/entries/{2**64}")).status_code == 404
    response = await (await browser(owner)).post(f"/communities/{town.id}/blog", {"title": "", "body": "留著"})
    assert response.status_code == 422 and "留著" in response.text
    assert list(await db.scalars(select(Item).where(Item.community_id == town.id))) == []


async def test_search_finds_entries_in_both_scripts_for_members_only(db, make_person, community, backend, index_now):
    owner = await make_person("Owner")
    insider = await make_person("Insider")
    outsider = await make_person("Outsider")
    secret = await community(owner, "研發", access="restricted", members=[insider])
    await blog.create_entry(db, owner.principal, secret.id, {"title": "預拌混凝土的養護", "body": "灑水養護七天"})
    await index_now()

    async def titles(someone, q):
        found = await search.search(db, someone.principal, backend, SearchRequest(q=q, kinds=["entry"]))
        return [r.item.title for r in found.results]

    assert await titles(insider, "預拌混凝土") == ["預拌混凝土的養護"]
    assert await titles(insider, "预拌混凝土 养护") == ["預拌混凝土的養護"]
    assert await titles(outsider, "预拌混凝土") == []
    found = await search.search(db, insider.principal, backend, SearchRequest(q="养护", kinds=["entry"]))
    assert found.results[0].item.url.startswith(f"/communities/{secret.id}/blog/")
