"""The stream's pages: home feed with composer and tabs, tag feeds, follow buttons, what I follow; CSRF."""

from __future__ import annotations

import re

from socius.activity import service


async def test_home_is_the_feed_with_a_composer_that_posts(client, login, make_person, community, db):
    me, friend = await make_person("Me"), await make_person("Friend")
    place = await community(friend, "讀書會", members=[me])
    await service.follow(db, me.principal, "person", friend.id)
    token = await login(client, me)
    assert (await client.get("/")).headers["location"] == "/feed"
    page = (await client.get("/feed")).text
    assert 'name="csrf_token" value=""' not in page  # every form carries the session's token
    assert 'name="body"' in page and f'<option value="{place.id}">讀書會</option>' in page
    posted = await client.post("/feed/status", data={"body": "今天讀完了 #讀書", "community_id": str(place.id),
                                                     "csrf_token": token})
    assert posted.status_code == 303 and posted.headers["location"].startswith("/feed#item-")
    page = (await client.get("/feed")).text
    assert ("今天讀完了" in page and 'href="/feed/tags/%E8%AF%BB%E4%B9%A6"' in page) or "/feed/tags/读书" in page
    assert 'id="social-' in page  # the social bar under the status update
    empty = await client.post("/feed/status", data={"body": " ", "csrf_token": token})
    assert empty.status_code == 422 and 'role="alert"' in empty.text
    forged = await client.post("/feed/status", data={"body": "Forged", "csrf_token": "nope"})
    assert forged.status_code == 403
    assert "Forged" not in (await client.get("/feed")).text
    status_only = (await client.get("/feed?kind=topic")).text
    assert "今天讀完了" not in status_only and 'aria-current="page"' in status_only


async def test_more_loads_the_next_page_without_repeating(client, login, make_person, db, post):
    me = await make_person("Me")
    for n in range(23):
        await post(me, f"Update number {n:02d}")
    await login(client, me)
    first = (await client.get("/feed")).text
    more = re.search(r'hx-get="([^"]+)"', first.split('class="feed-more"')[1]).group(1).replace("&amp;", "&")
    second = (await client.get(more, headers={"HX-Request": "true"})).text
    assert "<html" not in second
    shown_first = set(re.findall(r"Update number (\d\d)", first))
    shown_second = set(re.findall(r"Update number (\d\d)", second))
    assert len(shown_first) == 20 and len(shown_second) == 3 and not shown_first & shown_second


async def test_following_from_the_pages(client, login, make_person, community, db):
    me, ann = await make_person("Me"), await make_person("Ann")
    place = await community(ann, "Open")
    token = await login(client, me)
    panel = (await client.get(f"/people/{ann.id}/activity?panel=1")).text
    assert 'name="target_kind" value="person"' in panel and "Follow" in panel
    assert f'name="csrf_token" value="{token}"' in panel  # the form works without JavaScript too
    profile = (await client.get(f"/people/{ann.id}")).text
    assert f'hx-get="/people/{ann.id}/activity?panel=1"' in profile
    button = await client.post("/follows", data={"target_kind": "person", "target": str(ann.id), "following": "1",
                                                 "csrf_token": token}, headers={"HX-Request": "true"})
    assert button.status_code == 200 and "Unfollow" in button.text and "1 follower" in button.text
    for kind, target in (("community", place.id), ("tag", "Cloud")):
        done = await client.post("/follows", data={"target_kind": kind, "target": str(target), "following": "1",
                                                   "csrf_token": token, "next": "/following"})
        assert done.status_code == 303
    listed = (await client.get("/following")).text
    assert "Ann" in listed and "Open" in listed and "#cloud" in listed
    tag_page = (await client.get("/feed/tags/cloud")).text
    assert "#cloud" in tag_page and "Unfollow" in tag_page
    community_page = (await client.get(f"/communities/{place.id}/activity")).text
    assert "Unfollow" in community_page and "Recent activity" in community_page
    refused = await client.post("/follows", data={"target_kind": "person", "target": "123456789",
                                                  "following": "1", "csrf_token": token})
    assert refused.status_code == 404
    forged = await client.post("/follows", data={"target_kind": "tag", "target": "x", "csrf_token": "bad"})
    assert forged.status_code == 403
    assert await service.is_following(db, me.principal, "tag", "x") is False


async def test_restricted_pages_are_404_for_outsiders(client, login, make_person, community, post, db, guest):
    owner, outsider = await make_person("Owner"), await make_person("Outsider")
    secret = await community(owner, "Secret", access="restricted")
    await post(owner, "Hush #plans", community=secret)
    for someone in (outsider, guest):
        token = await login(client, someone)
        assert (await client.get(f"/communities/{secret.id}/activity")).status_code == 404
        for path in ("/feed", "/feed/tags/plans", f"/people/{owner.id}/activity"):
            assert "Hush" not in (await client.get(path)).text
        await client.post("/logout", data={"csrf_token": token})
