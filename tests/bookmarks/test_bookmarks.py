"""Bookmarks: only http(s) addresses without credentials, never fetched, links marked for the outside, one bookmark
per address in a community; pages and API for members, non-members, guests and administrators; search."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from socius.bookmarks import service as bookmarks
from socius.communities import service as communities
from socius.content.models import Item
from socius.core.errors import ValidationFailed
from socius.search import service as search
from socius.search.service import SearchRequest

BAD_URLS = ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,<script>alert(1)</script>",
            "ftp://example.com/file", "file:///etc/passwd", "//example.com/x", "example.com", "https://",
            "https://user:secret@example.com/", "https://user@example.com/", "https://exa mple.com/",
            "https://example.com/\x00", "https://example.com/\nx", "https://example.com:99999/",
            "https://example.com/" + "a" * 2000, "", "   ", "https://example.com/<script>", "http:\\\\evil.com"]


@pytest.mark.parametrize("url", BAD_URLS)
def test_only_plain_web_addresses_are_accepted(url):
    with pytest.raises(ValidationFailed) as error:
        bookmarks.clean_url(url)
    assert list(error.value.by_field()) == ["url"]


def test_good_addresses_are_kept_with_scheme_and_host_folded():
    assert bookmarks.clean_url(" HTTPS://Example.COM/Path?q=預拌#x ") == "https://example.com/Path?q=預拌#x"
    assert bookmarks.clean_url("http://intranet:8080") == "http://intranet:8080/"
    assert bookmarks.clean_url("https://[2001:db8::1]/a") == "https://[2001:db8::1]/a"


async def test_share_list_by_tag_and_open_a_bookmark(db, make_person, community, browser):
    owner = await make_person("Owner")
    member = await make_person("Member")
    town = await community(owner, "資料庫", members=[member])
    me = await browser(member)
    response = await me.post(f"/communities/{town.id}/bookmarks", {
        "url": "https://www.cnsonline.com.tw/?node=search", "title": "國家標準 CNS 3090",
        "description": "預拌混凝土的**國家標準**", "tags": "標準, 混凝土"})
    assert response.status_code == 303, response.text
    url = response.headers["location"]
    await bookmarks.create_bookmark(db, owner.principal, town.id, {"url": "https://example.com/other",
                                                                  "title": "", "tags": ["其他"]})
    await db.flush()
    listing = await me.get(f"/communities/{town.id}/bookmarks")
    links = re.findall(r'<a class="outbound" href="([^"]+)" rel="([^"]+)"', listing.text)
    assert links == [("https://example.com/other", "noopener noreferrer nofollow ugc"),
                     ("https://www.cnsonline.com.tw/?node=search", "noopener noreferrer nofollow ugc")]
    assert ">https://example.com/other</a>" in listing.text  # no title: the address stands in
    tagged = await me.get(f"/communities/{town.id}/bookmarks?tag=標準")
    assert "國家標準 CNS 3090" in tagged.text and "example.com/other" not in tagged.text
    page = await me.get(url)
    assert "<strong>國家標準</strong>" in page.text and 'rel="noopener noreferrer nofollow ugc"' in page.text
    # A bad address shows the form again naming the field, with what was typed.
    response = await me.post(f"/communities/{town.id}/bookmarks", {"url": "javascript:alert(1)", "title": "點我"})
    assert response.status_code == 422 and 'id="url-error"' in response.text and "點我" in response.text
    # The same address again shows the one already there.
    response = await me.post(f"/communities/{town.id}/bookmarks", {"url": "HTTPS://WWW.cnsonline.com.tw/?node=search",
                                                                   "title": "again"})
    assert response.status_code == 409 and "already bookmarked" in response.text and url in response.text
    count = len(list(await db.scalars(select(Item.id).where(Item.kind == "bookmark", Item.community_id == town.id))))
    assert count == 2


async def test_api_walk_and_duplicates(db, make_person, community, api):
    owner = await make_person("Owner")
    town = await community(owner, "Town")
    other = await community(owner, "Other")
    client = await api(owner)
    base = f"/api/v1/communities/{town.id}/bookmarks"
    response = await client.post(base, json={"url": "https://example.com/a", "title": "A", "tags": ["x"]})
    assert response.status_code == 201, response.text
    made = response.json()
    assert (made["link"], made["url"]) == ("https://example.com/a", f"/communities/{town.id}/bookmarks/{made['id']}")
    response = await client.post(base, json={"url": "https://example.com/a"})
    assert response.status_code == 409
    assert response.json()["error"]["existing"]["id"] == made["id"]
    # Another community may bookmark it too.
    assert (await client.post(f"/api/v1/communities/{other.id}/bookmarks",
                              json={"url": "https://example.com/a"})).status_code == 201
    second = (await client.post(base, json={"url": "https://example.com/b", "title": "B"})).json()
    response = await client.patch(f"/api/v1/bookmarks/{second['id']}", json={"version": 1, "url": "https://example.com/a"})
    assert response.status_code == 409 and response.json()["error"]["existing"]["id"] == made["id"]
    response = await client.patch(f"/api/v1/bookmarks/{second['id']}",
                                  json={"version": 1, "url": "https://example.com/c", "description": "changed"})
    assert response.status_code == 200
    assert (response.json()["link"], response.json()["body_md"], response.json()["version"]) == (
        "https://example.com/c", "changed", 2)
    response = await client.patch(f"/api/v1/bookmarks/{second['id']}", json={"version": 1, "title": "stale"})
    assert response.status_code == 409 and "existing" not in response.json()["error"]
    for body, field in (({"url": "javascript:alert(1)"}, "url"), ({"url": "https://a.example/" + "x" * 2000}, "url"),
                        ({"url": "https://u:p@example.com/"}, "url"), ({"url": 5}, "url"), ({}, "url"),
                        ({"url": "https://example.com/d", "description": "x" * 100_001}, "description")):
        response = await client.post(base, json=body)
        assert response.status_code == 422, (body, response.text)
        assert [f["field"] for f in response.json()["error"]["fields"]] == [field], response.text
    listing = (await client.get(base, params={"tag": "x"})).json()
    assert [b["link"] for b in listing["items"]] == ["https://example.com/a"]
    assert (await client.delete(f"/api/v1/bookmarks/{made['id']}")).status_code == 204
    # Deleted, the address may be bookmarked again.
    assert (await client.post(base, json={"url": "https://example.com/a"})).status_code == 201


async def test_who_may_do_what(db, make_person, community, admin, guest, browser, api):
    owner = await make_person("Owner")
    outsider = await make_person("Outsider")
    town = await community(owner, "Open")
    secret = await community(owner, "Secret", access="restricted")
    shared = await bookmarks.create_bookmark(db, owner.principal, town.id, {"url": "https://example.com/open"})
    hidden = await bookmarks.create_bookmark(db, owner.principal, secret.id, {"url": "https://example.com/secret"})
    await db.flush()
    them, client = await browser(outsider), await api(outsider)
    assert "example.com/open" in (await them.get(f"/communities/{town.id}/bookmarks")).text
    assert (await them.post(f"/communities/{town.id}/bookmarks", {"url": "https://x.example/"})).status_code == 403
    assert (await client.post(f"/api/v1/communities/{town.id}/bookmarks",
                              json={"url": "https://example.com/open"})).status_code == 403  # says nothing of it
    assert (await client.patch(f"/api/v1/bookmarks/{shared.id}", json={"version": 1, "title": "x"})).status_code == 403
    for path in (f"/communities/{secret.id}/bookmarks", f"/communities/{secret.id}/bookmarks/{hidden.id}",
                 f"/communities/{secret.id}/bookmarks/new"):
        assert (await them.get(path)).status_code == 404, path
    assert (await client.get(f"/api/v1/bookmarks/{hidden.id}")).status_code == 404
    assert (await client.post(f"/api/v1/communities/{secret.id}/bookmarks",
                              json={"url": "https://example.com/secret"})).status_code == 404
    assert (await (await browser(guest)).get(f"/communities/{town.id}/bookmarks")).status_code == 404
    assert (await (await api(guest)).get(f"/api/v1/bookmarks/{shared.id}")).status_code == 404
    assert (await (await api(admin)).get(f"/api/v1/bookmarks/{hidden.id}")).json()["link"] == "https://example.com/secret"
    await communities.set_archived(db, owner.principal, town.id, True)
    await db.flush()
    mine = await api(owner)
    assert (await mine.post(f"/api/v1/communities/{town.id}/bookmarks",
                            json={"url": "https://example.com/new"})).status_code == 409
    assert (await mine.get(f"/api/v1/communities/{town.id}/bookmarks")).status_code == 200


async def test_search_finds_bookmarks_in_both_scripts_for_members_only(db, make_person, community, backend,
                                                                        index_now):
    owner = await make_person("Owner")
    insider = await make_person("Insider")
    outsider = await make_person("Outsider")
    secret = await community(owner, "研發", access="restricted", members=[insider])
    await bookmarks.create_bookmark(db, owner.principal, secret.id, {
        "url": "https://example.com/slump", "title": "坍落度試驗說明", "description": "預拌混凝土現場試驗"})
    await index_now()

    async def titles(someone, q):
        found = await search.search(db, someone.principal, backend, SearchRequest(q=q, kinds=["bookmark"]))
        return [r.item.title for r in found.results]

    assert await titles(insider, "坍落度") == ["坍落度試驗說明"]
    assert await titles(insider, "坍落度试验") == ["坍落度試驗說明"]
    assert await titles(insider, "预拌混凝土") == ["坍落度試驗說明"]
    assert await titles(outsider, "坍落度") == []
