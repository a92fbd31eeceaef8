"""The stream's API: feeds as JSON and ActivityStreams 2.0, posting, following; bad input names the field."""

from __future__ import annotations

from socius.activity import service

AS2 = "application/activity+json"


async def test_the_home_feed_as_json_and_as_activitystreams(app, bearer, make_person, community, post, db):
    me, ann = await make_person("Me"), await make_person("Ann")
    place = await community(ann, "雲端平台")
    await service.follow(db, me.principal, "person", ann.id)
    await service.follow(db, me.principal, "community", place.id)
    topic = await post(ann, "Release notes #發布", community=place, kind="topic", title="v2 released")
    async with await bearer(app, me) as api:
        plain = (await api.get("/api/v1/feed", params={"kind": "topic"})).json()
        assert [(e["verb"], e["item"]["title"], e["community"]["name"], e["actor"]["name"])
                for e in plain["items"]] == [("post", "v2 released", "雲端平台", "Ann")]
        for response in (await api.get("/api/v1/feed", headers={"Accept": AS2}),
                         await api.get("/api/v1/feed?format=as2")):
            assert response.status_code == 200 and response.headers["content-type"].startswith(AS2)
            page = response.json()
            assert page["@context"] == "https://www.w3.org/ns/activitystreams"
            assert page["type"] == "OrderedCollectionPage"
            created, made = page["orderedItems"]  # the topic, then Ann creating the community
            assert created["type"] == "Create" and created["actor"]["type"] == "Person"
            assert created["actor"]["name"] == "Ann" and created["actor"]["id"].endswith(f"/people/{ann.id}")
            note = created["object"]
            assert note["type"] == "Note" and note["name"] == "v2 released"
            assert note["url"].endswith(f"/forum/{topic.id}") and note["published"]
            assert note["context"].endswith(f"/communities/{place.id}")
            assert created["context"]["name"] == "雲端平台"
            assert made["type"] == "Create" and made["object"]["type"] == "Group"
        entries = (await api.get(f"/api/v1/communities/{place.id}/feed?format=as2&limit=1")).json()
        assert len(entries["orderedItems"]) == 1 and "before=" in entries["next"]


async def test_restricted_entries_never_reach_outsiders_through_the_api(app, bearer, make_person, community, post,
                                                                       db, admin, guest):
    owner, outsider = await make_person("Owner"), await make_person("Outsider")
    secret = await community(owner, "Secret", access="restricted")
    await post(owner, "Hush #plans", community=secret)
    await service.follow(db, outsider.principal, "person", owner.id)
    await service.follow(db, outsider.principal, "tag", "plans")
    for someone in (outsider, guest):
        async with await bearer(app, someone) as api:
            for path in ("/api/v1/feed", "/api/v1/feed?format=as2", "/api/v1/feed/tags/plans",
                         f"/api/v1/people/{owner.id}/feed?format=as2"):
                response = await api.get(path)
                assert "Hush" not in response.text and "Secret" not in response.text, path
            assert (await api.get(f"/api/v1/communities/{secret.id}/feed")).status_code == 404
    async with await bearer(app, admin) as api:
        assert "Hush" in (await api.get(f"/api/v1/communities/{secret.id}/feed")).text


async def test_posting_a_status_and_following_through_the_api(app, bearer, make_person, community, db, guest):
    me, friend = await make_person("Me"), await make_person("Friend")
    place = await community(friend, "Open", members=[me])
    async with await bearer(app, me) as api:
        made = await api.post("/api/v1/status", json={"body": f"Hello @[Friend]({friend.id}) #hi"})
        assert made.status_code == 201 and f'href="/people/{friend.id}"' in made.json()["html"]
        inside = await api.post("/api/v1/status", json={"body": "In the team", "community_id": place.id})
        assert inside.status_code == 201 and inside.json()["community_id"] == place.id
        assert (await api.put("/api/v1/follows/tag/%23Hi")).json() == {"target_kind": "tag", "target": "hi",
                                                                      "following": True}
        assert (await api.put(f"/api/v1/follows/person/{friend.id}")).status_code == 200
        listed = (await api.get("/api/v1/follows")).json()
        assert listed == {"people": [{"id": friend.id, "name": "Friend"}], "communities": [], "tags": ["hi"]}
        assert (await api.delete("/api/v1/follows/tag/hi")).status_code == 204
        assert (await api.get("/api/v1/follows")).json()["tags"] == []
        feed = (await api.get("/api/v1/feed/tags/HI")).json()
        assert [e["item"]["id"] for e in feed["items"]] == [made.json()["id"]]
    async with await bearer(app, guest) as api:  # guests post only where they belong
        assert (await api.post("/api/v1/status", json={"body": "Hi"})).status_code == 403


async def test_bad_input_is_a_422_naming_the_field_or_a_404(app, bearer, make_person, community):
    me = await make_person("Me")
    owner = await make_person("Owner")
    secret = await community(owner, "Secret", access="restricted")
    async with await bearer(app, me) as api:
        cases = [
            (api.get("/api/v1/feed?kind=everything"), 422, "kind"),
            (api.get("/api/v1/feed?before=not-a-cursor"), 422, "before"),
            (api.get("/api/v1/feed?before=WzE4NDQ2NzQ0MDczNzA5NTUxNjE2XQ"), 422, "before"),  # [2**64]
            (api.get("/api/v1/feed?limit=1000"), 422, "limit"),
            (api.get("/api/v1/feed?format=xml"), 422, "format"),
            (api.get("/api/v1/feed/tags/%3Cb%3E"), 422, "key"),
            (api.put("/api/v1/follows/tag/%3Cscript%3E"), 422, "target"),
            (api.put("/api/v1/follows/planet/1"), 422, "target_kind"),
            (api.put("/api/v1/follows/person/abc"), 422, "target"),
            (api.put(f"/api/v1/follows/person/{me.id}"), 422, "target"),
            (api.post("/api/v1/status", json={"body": "  "}), 422, "body"),
            (api.post("/api/v1/status", json={"body": 5}), 422, "body"),
            (api.post("/api/v1/status", json={"body": "x", "community_id": "one"}), 422, "community_id"),
            (api.post("/api/v1/status", json={"body": "x", "extra": 1}), 422, "extra"),
            (api.put("/api/v1/follows/person/99999999999999999999999"), 404, None),
            (api.put("/api/v1/follows/person/987654321"), 404, None),
            (api.put(f"/api/v1/follows/community/{secret.id}"), 404, None),
            (api.get("/api/v1/communities/99999999999999999999999/feed"), 404, None),
            (api.get(f"/api/v1/communities/{secret.id}/feed"), 404, None),
            (api.get("/api/v1/people/99999999999999999999999/feed"), 404, None),
            (api.post("/api/v1/status", json={"body": "x", "community_id": secret.id}), 404, None),
        ]
        for call, status, field in cases:
            response = await call
            assert response.status_code == status, (response.request.url, response.text)
            if field:
                assert field in response.text, (response.request.url, response.text)
        assert (await api.get("/api/v1/follows")).json() == {"people": [], "communities": [], "tags": []}
