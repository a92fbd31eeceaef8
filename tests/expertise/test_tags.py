"""Profile tags: one key per tag across scripts, widths and case; endorsements; hiding; notifications; rate limits;
bad input changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from socius.admin.models import AuditEntry
from socius.expertise import service
from socius.expertise.models import PersonTag, Tag, TagAssignment
from socius.notifications.models import Notification
from socius.people import service as people
from tests.people.conftest import field_errors


async def counts(db) -> tuple[int, int, int, int]:
    return tuple([await db.scalar(select(func.count()).select_from(model))
                  for model in (Tag, TagAssignment, PersonTag, Notification)])


async def test_spellings_of_one_tag_fold_to_one_key_labelled_by_the_most_used(db, make_person, tag):
    owner = await make_person("林志明")
    a, b, c = [await make_person() for _ in range(3)]
    await tag(owner, owner, "預拌混凝土")
    await tag(a, owner, "预拌混凝土")
    await tag(b, owner, "预拌混凝土 ")
    await tag(c, owner, "Python")
    await tag(a, owner, "ＰＹＴＨＯＮ")  # full-width, upper case: the same tag

    shown = await service.profile_tags(db, owner.principal, owner.person)
    assert [(t.label, t.count, t.self_tagged, t.colleagues) for t in shown] == [
        ("预拌混凝土", 3, True, 2), ("Python", 2, False, 2)]
    assert [g.id for g in shown[0].given_by] == [owner.id, a.id, b.id]
    assert await db.scalar(select(func.count()).select_from(Tag)) == 2


async def test_colleagues_tag_and_endorse_through_the_api_and_the_owner_is_notified(db, api, make_person):
    owner = await make_person("陳美玲")
    colleague = await make_person("王大明")
    client = await api(colleague)

    response = await client.post(f"/api/v1/people/{owner.id}/tags", json={"tag": "資訊安全"})
    assert response.status_code == 201, response.text
    [item] = response.json()["items"]
    assert (item["label"], item["count"], item["mine"], item["given_by"][0]["display_name"]) == (
        "資訊安全", 1, True, "王大明")

    own = await api(owner)
    # The mainland term is the same tag (OpenCC's Taiwan phrases: 資訊 → 信息).
    response = await own.post(f"/api/v1/people/{owner.id}/tags", json={"tag": "信息安全"})
    assert response.json()["items"][0]["count"] == 2

    notes = (await (await api(owner)).get("/api/v1/notifications")).json()
    assert notes["unread"] == 1  # tagging oneself tells nobody
    assert notes["items"][0]["message"] == "王大明 tagged you with “資訊安全”"
    assert notes["items"][0]["url"] == f"/people/{owner.id}#tags"

    # Taking back one's own tag.
    response = await client.delete(f"/api/v1/people/{owner.id}/tags/{service.tag_key('資訊安全')}")
    assert response.status_code == 204
    items = (await client.get(f"/api/v1/people/{owner.id}/tags")).json()["items"]
    assert [(i["count"], i["mine"], i["self_tagged"]) for i in items] == [(1, False, True)]


async def test_a_second_colleague_giving_a_tag_is_an_endorsement_notification(db, make_person, tag):
    owner, a, b = await make_person(), await make_person("Amy"), await make_person("Bob")
    await tag(a, owner, "Kanban")
    await tag(b, owner, "kanban")
    messages = list(await db.scalars(select(Notification.kind).where(Notification.person_id == owner.id)
                                     .order_by(Notification.id)))
    assert messages == ["tagged", "endorsed"]


@pytest.mark.parametrize(("value", "reason"), [
    ("", "must not be empty"),
    ("   ", "must not be empty"),
    ("x" * 1000, "must be at most 50 characters"),
    ("bad\x00tag", "must not contain control characters"),
    ("<script>alert(1)</script>", "must not contain < > , or ;"),
    ("a, b", "must not contain < > , or ;"),
    ("🎉🎉", "must contain a letter, a character or a digit"),
    (42, "must be text"),
])
async def test_bad_tags_are_refused_naming_the_field_and_change_nothing(db, api, make_person, value, reason):
    owner = await make_person()
    before = await counts(db)
    response = await (await api(owner)).post(f"/api/v1/people/{owner.id}/tags", json={"tag": value})
    assert field_errors(response) == {"tag": reason}
    assert await counts(db) == before


async def test_who_may_tag_whom(db, api, make_person, member, guest, admin):
    before = await counts(db)
    # Tagging oneself twice.
    client = await api(member)
    assert (await client.post(f"/api/v1/people/{member.id}/tags", json={"tag": "SQL"})).status_code == 201
    response = await client.post(f"/api/v1/people/{member.id}/tags", json={"tag": "sql"})
    assert response.status_code == 409
    assert response.json()["error"]["message"] == "You have already tagged yourself with this tag."

    # A guest may tag themselves, not an employee: neither a new tag nor an endorsement.
    guest_client = await api(guest)
    assert (await guest_client.post(f"/api/v1/people/{guest.id}/tags", json={"tag": "Logistics"})).status_code == 201
    for label in ("Negotiation", "SQL"):
        response = await guest_client.post(f"/api/v1/people/{member.id}/tags", json={"tag": label})
        assert response.status_code == 403
        assert response.json()["error"]["message"] == "Guests can tag only themselves."

    # A person the guest cannot see does not exist for them.
    stranger = await make_person("Stranger")
    assert (await guest_client.post(f"/api/v1/people/{stranger.id}/tags", json={"tag": "x"})).status_code == 404
    assert (await guest_client.get(f"/api/v1/people/{stranger.id}/tags")).status_code == 404

    # A deactivated person's tags no longer change.
    await people.deactivate(db, admin.principal, stranger.id)
    response = await client.post(f"/api/v1/people/{stranger.id}/tags", json={"tag": "SQL"})
    assert field_errors(response) == {"person": "is deactivated: their tags can no longer change"}

    assert (await client.post("/api/v1/people/999999999/tags", json={"tag": "SQL"})).status_code == 404
    tags_now = await counts(db)
    assert tags_now[1] == before[1] + 2  # the member's SQL and the guest's own tag, nothing else


async def test_the_owner_hides_a_tag_and_it_stops_counting(db, api, make_person, tag):
    owner, colleague = await make_person("Owner"), await make_person("Colleague")
    await tag(colleague, owner, "Gossip")
    key = service.tag_key("Gossip")
    tag_row = await service.resolve(db, key)
    assert tag_row.people_count == 1

    response = await (await api(owner)).post(f"/api/v1/people/{owner.id}/tags/{key}/hide")
    assert response.json()["items"][0]["hidden"] is True
    await db.refresh(tag_row)
    assert tag_row.people_count == 0
    # Others no longer see it; its endorsement is kept for when the owner shows it again.
    assert (await (await api(colleague)).get(f"/api/v1/people/{owner.id}/tags")).json()["items"] == []
    assert (await (await api(colleague)).post(f"/api/v1/people/{owner.id}/tags/{key}/hide")).status_code == 404

    await (await api(owner)).post(f"/api/v1/people/{owner.id}/tags/{key}/show")
    items = (await (await api(colleague)).get(f"/api/v1/people/{owner.id}/tags")).json()["items"]
    assert [(i["label"], i["count"]) for i in items] == [("Gossip", 1)]


async def test_tag_spam_is_rate_limited(db, api, make_person, search_app, monkeypatch):
    monkeypatch.setattr(search_app.state.settings, "tag_rate_per_hour", 3)
    spammer, target = await make_person(), await make_person()
    client = await api(spammer)
    for n in range(3):
        assert (await client.post(f"/api/v1/people/{target.id}/tags", json={"tag": f"spam{n}"})).status_code == 201
    response = await client.post(f"/api/v1/people/{target.id}/tags", json={"tag": "spam3"})
    assert response.status_code == 429
    assert "tagged a lot" in response.json()["error"]["message"]
    assert len((await client.get(f"/api/v1/people/{target.id}/tags")).json()["items"]) == 3


async def test_autocomplete_finds_tags_by_prefix_or_inner_word_in_either_script(db, api, make_person, tag):
    people_ = [await make_person() for _ in range(4)]
    for someone in people_:
        await tag(someone, someone, "預拌混凝土")
    await tag(people_[0], people_[0], "Ready-mix concrete")
    await tag(people_[0], people_[0], "混凝土強度")
    await tag(people_[1], people_[1], "混凝土強度")
    client = await api(people_[0])

    async def suggest(prefix: str) -> list[tuple[str, int]]:
        response = await client.get("/api/v1/tags", params={"prefix": prefix})
        assert response.status_code == 200
        return [(i["label"], i["people"]) for i in response.json()["items"]]

    # Tags starting with what was typed come first, then ones containing it; the most held first.
    assert await suggest("混凝") == [("混凝土強度", 2), ("預拌混凝土", 4)]
    assert await suggest("预拌") == [("預拌混凝土", 4)]
    assert await suggest("concrete") == [("Ready-mix concrete", 1)]
    assert await suggest("READY") == [("Ready-mix concrete", 1)]
    assert await suggest("%") == []
    assert await suggest("") == []


STALE_TERMS = text("""
    SELECT count(*) FROM tag_term m JOIN tag s ON s.id = m.tag_id JOIN tag t ON t.id = coalesce(s.merged_into_id, s.id)
    WHERE (m.target_id, m.target_key, m.people_count, m.head)
          IS DISTINCT FROM (t.id, t.key, t.people_count, m.term = s.key OR m.term = t.key)""")


async def test_autocomplete_ranking_follows_counts_hiding_synonyms_and_merges(db, make_person, tag, admin):
    """Autocomplete ranks on the terms' copies of their tag's key and count: they follow every change."""
    people_ = [await make_person() for _ in range(4)]
    await tag(people_[0], people_[0], "Kotlin")
    await tag(people_[0], people_[0], "Kafka")
    await tag(people_[1], people_[1], "Kafka")

    async def suggest(prefix: str) -> list[tuple[str, int]]:
        return [(s.label, s.people) for s in await service.autocomplete(db, prefix)]

    assert await suggest("k") == [("Kafka", 2), ("Kotlin", 1)]
    await tag(people_[1], people_[1], "Kotlin")
    await tag(people_[2], people_[2], "Kotlin")
    assert await suggest("k") == [("Kotlin", 3), ("Kafka", 2)]
    await service.set_hidden(db, people_[2].principal, people_[2].id, "kotlin", True)
    assert await suggest("k") == [("Kafka", 2), ("Kotlin", 2)]  # a tie: by key
    await service.remove_tag(db, people_[1].principal, people_[1].id, "kotlin")
    assert await suggest("k") == [("Kafka", 2), ("Kotlin", 1)]

    # A synonym of a tag later merged into another leads to the merged tag, with its count.
    await tag(people_[3], people_[3], "Kubernetes")
    await service.add_synonym(db, admin.principal, "kubernetes", "Kube")
    assert await suggest("kube") == [("Kubernetes", 1)]
    await service.merge(db, admin.principal, "kubernetes", "kafka")
    assert await suggest("kube") == [("Kafka", 3)]
    assert await suggest("k") == [("Kafka", 3), ("Kotlin", 1)]
    # An inner word ranks after tags starting with what was typed.
    await tag(people_[3], people_[3], "Apache Kafka Streams")
    assert await suggest("kafka") == [("Kafka", 3), ("Apache Kafka Streams", 1)]
    assert await db.scalar(STALE_TERMS) == 0


async def test_merging_keeps_every_endorsement_and_the_old_name_leads_to_the_new(db, api, make_person, tag, admin):
    owner, a, b = await make_person("Owner"), await make_person("A"), await make_person("B")
    await tag(a, owner, "RMC")
    await tag(b, owner, "RMC")
    await tag(a, owner, "預拌混凝土")  # a gave both: counts once after the merge
    other = await make_person("Other")
    await tag(other, other, "RMC")

    client = await api(admin)
    response = await client.post("/api/v1/tags/merge", json={"source": "rmc", "target": "预拌混凝土"})
    assert response.status_code == 200, response.text
    assert response.json()["people"] == 2

    items = (await client.get(f"/api/v1/people/{owner.id}/tags")).json()["items"]
    assert [(i["label"], i["count"], sorted(g["display_name"] for g in i["given_by"])) for i in items] == [
        ("預拌混凝土", 2, ["A", "B"])]
    # Typing the old name now gives the merged tag.
    await tag(owner, owner, "rmc")
    assert [(i["label"], i["self_tagged"]) for i in
            (await client.get(f"/api/v1/people/{owner.id}/tags")).json()["items"]] == [("預拌混凝土", True)]
    assert [i["label"] for i in (await client.get("/api/v1/tags", params={"prefix": "rm"})).json()["items"]] == [
        "預拌混凝土"]
    assert await db.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "tag.merge")) == 1

    # A synonym makes a new spelling mean the tag.
    response = await client.post(f"/api/v1/tags/{service.tag_key('預拌混凝土')}/synonyms",
                                 json={"synonym": "Ready-mix concrete"})
    assert response.status_code == 200
    await tag(a, other, "ready-mix CONCRETE")
    assert [i["label"] for i in (await client.get(f"/api/v1/people/{other.id}/tags")).json()["items"]] == [
        "預拌混凝土"]

    # Only administrators merge.
    response = await (await api(owner)).post("/api/v1/tags/merge", json={"source": "a", "target": "b"})
    assert response.status_code == 403
    assert field_errors(await client.post("/api/v1/tags/merge", json={"source": "nope", "target": "rmc"})) == {
        "source": "is not a tag"}


async def test_tagging_through_the_profile_page(client, login, make_person, tag, db):
    owner = await make_person("陳志豪")
    colleague = await make_person("Lee", username="lee")
    await tag(owner, owner, "供應鏈管理")
    token = await login(client, colleague)

    page = await client.get(f"/people/{owner.id}")
    assert "供應鏈管理" in page.text and 'id="tags"' in page.text
    response = await client.post(f"/people/{owner.id}/tags", data={"tag": "物流規劃", "csrf_token": token})
    assert response.status_code == 303
    # htmx: the panel comes back in place, with the endorsement counted.
    response = await client.post(f"/people/{owner.id}/tags", data={"tag": "供應鏈管理", "csrf_token": token},
                                 headers={"HX-Request": "true"})
    assert response.status_code == 200 and "<html" not in response.text
    assert 'class="count"' in response.text and ">2</span>" in response.text
    # A refusal is shown in the panel and changes nothing.
    response = await client.post(f"/people/{owner.id}/tags", data={"tag": "<b>x</b>", "csrf_token": token})
    assert response.status_code == 422 and "must not contain &lt; &gt; , or ;" in response.text
    # Without the CSRF token nothing happens.
    response = await client.post(f"/people/{owner.id}/tags", data={"tag": "Nope"})
    assert response.status_code == 403
    shown = await service.profile_tags(db, colleague.principal, owner.person)
    assert sorted((t.label, t.count) for t in shown) == [("供應鏈管理", 2), ("物流規劃", 1)]

    tag_page = await client.get("/tags/" + service.tag_key("供應鏈管理"))
    assert tag_page.status_code == 200 and "陳志豪" in tag_page.text and "物流規劃" in tag_page.text
    assert (await client.get("/tags/供應鏈管理")).headers["location"].endswith(
        service.tag_url(service.tag_key("供應鏈管理")))
    assert (await client.get("/tags/never-used")).status_code == 404


async def test_notifications_page_marks_them_read(client, login, make_person, tag):
    owner, colleague = await make_person("Owner", username="owner"), await make_person("Cora")
    await tag(colleague, owner, "Negotiation")
    await login(client, owner)
    bell = await client.get("/notifications/bell")
    assert ">1</span>" in bell.text
    page = await client.get("/notifications")
    assert "Cora tagged you with “Negotiation”" in page.text
    assert ">1</span>" not in (await client.get("/notifications/bell")).text


async def test_guests_have_no_tag_autocomplete_or_tag_pages(api, guest, make_person, tag, client, login):
    await tag(guest, guest, "Logistics")
    response = await (await api(guest)).get("/api/v1/tags", params={"prefix": "log"})
    assert response.status_code == 403
    await login(client, guest)
    assert (await client.get("/tags/logistics")).status_code == 403
    assert (await client.get("/experts", params={"q": "logistics"})).status_code == 403



async def test_search_finds_people_by_their_tags_until_a_tag_is_hidden(db, api, make_person, member, tag, index_now):
    expert = await make_person("蔡宗翰")
    await tag(member, expert, "預拌混凝土")
    await index_now()
    client = await api(member)

    async def found() -> list[str]:
        response = await client.get("/api/v1/search", params={"q": "预拌混凝土", "kind": "person"})
        return [i["title"] for i in response.json()["items"]]

    assert await found() == ["蔡宗翰"]
    await service.set_hidden(db, expert.principal, expert.id, service.tag_key("預拌混凝土"), True)
    await index_now()
    assert await found() == []


async def test_a_taiwan_term_typed_in_simplified_characters_is_the_same_tag(db, make_person, tag):
    owner, a, b = await make_person(), await make_person(), await make_person()
    await tag(owner, owner, "嵌入式韌體")
    await tag(a, owner, "嵌入式韧体")
    await tag(b, owner, "嵌入式固件")  # the mainland term
    [shown] = await service.profile_tags(db, owner.principal, owner.person)
    assert (shown.label, shown.count) == ("嵌入式韌體", 3)
