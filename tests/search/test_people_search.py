"""People in search: names in every script and pinyin, typos, authorisation inside the query, freshness."""

from __future__ import annotations

import pytest

from socius.people import service as people
from socius.people.models import Role
from socius.search import tantivy_backend
from tests.people.conftest import field_errors


async def found(client, q: str, **params) -> list[str]:
    response = await client.get("/api/v1/search", params={"q": q, **params})
    assert response.status_code == 200, response.text
    return [item["title"] for item in response.json()["items"]]


@pytest.fixture
async def staff(make_person, index_now):
    """A few colleagues, indexed through the outbox their creation wrote."""
    made = {
        "lin": await make_person("林志明", username="zhiming", name_native="林志明", name_latin="Lin Chih-ming",
                                 title="軟體工程師", department="雲端平台部", location="台北",
                                 about_md="負責預拌混凝土工廠的排程軟體與專業協助。"),
        "zhang": await make_person("張偉", username="zhangwei", name_native="張偉", name_latin="Zhang Wei",
                                   title="Product Manager", department="Marketing",
                                   about_md="Runs the ideas programme and community events."),
        "smith": await make_person("Alice Smith", username="alice", title="Software architect",
                                   department="Research"),
    }
    await index_now()
    return made


async def test_members_find_people_by_name_in_any_script(api, member, staff):
    client = await api(member)
    assert await found(client, "林志明") == ["林志明"]
    assert await found(client, "张伟") == ["張偉"]          # Simplified finds Traditional
    assert await found(client, "zhangwei") == ["張偉"]      # pinyin
    assert await found(client, "Lin Chih-ming") == ["林志明"]
    assert await found(client, "alice") == ["Alice Smith"]


async def test_names_tolerate_typos_and_prefixes(api, member, staff):
    client = await api(member)
    assert await found(client, "zhnagwei") == ["張偉"]      # two letters swapped
    assert await found(client, "Smiht") == ["Alice Smith"]
    assert await found(client, "zhiming") == ["林志明"]      # given name in pinyin
    assert await found(client, "zhim") == ["林志明"]         # as one types


async def test_profile_text_is_searchable_in_both_scripts(api, member, staff):
    client = await api(member)
    assert await found(client, "软件工程师") == ["林志明"]    # 軟體 is 软件 in the mainland
    assert await found(client, "預拌") == ["林志明"]
    assert await found(client, "专业协助") == ["林志明"]
    assert await found(client, "idea") == ["張偉"]            # the about text says "ideas"
    assert set(await found(client, "software")) == {"Alice Smith"}


async def test_results_carry_a_highlighted_escaped_snippet(api, member, make_person, index_now):
    await make_person("Mallory", username="mallory", about_md="I write <script>alert(1)</script> about kanban")
    await index_now()
    response = await (await api(member)).get("/api/v1/search", params={"q": "kanban"})
    snippet = response.json()["items"][0]["snippet"]
    assert "<mark>kanban</mark>" in snippet
    assert "<script>" not in snippet and "&lt;script&gt;" in snippet


async def test_a_guest_finds_only_themselves_and_their_host(api, guest, member, staff):
    client = await api(guest)
    assert await found(client, "張偉") == []
    assert await found(client, "林志明") == []
    assert await found(client, "陳美玲") == ["陳美玲"]          # the host
    assert await found(client, "Gary") == ["Gary Guest"]     # themselves
    body = (await client.get("/api/v1/search", params={"q": "工程師"})).json()
    # Nobody else is counted either: the total and the facets come from the same filtered query.
    assert body["total"] == 1 and body["facets"] == {"person": 1}


async def test_a_guest_cannot_find_a_host_by_a_field_hidden_from_guests(api, guest, member, index_now):
    await index_now()
    assert member.person.location == "台北" and "location" in member.person.guest_hidden
    assert await found(await api(guest), "台北") == []
    assert await found(await api(member), "台北") == ["陳美玲"]


async def test_hits_are_rechecked_against_the_database(api, guest, member, make_person, db, index_now):
    other = await make_person("Olga Other", username="olga")
    await index_now()
    # The index still says Olga is visible to the guest's host key… until the outbox is applied, a stale
    # document must not leak: change the guest's host in the database only.
    guest.person.manager_id = other.id
    await db.flush()
    client = await api(guest)
    assert await found(client, "陳美玲") == []      # no longer the host: the database says no
    assert await found(client, "Olga") == ["Olga Other"]


async def test_edits_and_deactivation_reach_the_index(api, admin, member, staff, db, index_now):
    client = await api(admin)
    response = await client.patch(f"/api/v1/people/{staff['smith'].id}", json={"display_name": "Alice Jones"})
    assert response.status_code == 200
    await index_now()
    assert await found(client, "Jones") == ["Alice Jones"]
    assert await found(client, "Smith") == []
    await people.deactivate(db, None, staff["zhang"].id)
    await index_now()
    assert await found(client, "zhangwei") == []
    assert await found(client, "zhangwei", include_former="true") == ["張偉"]


async def test_deleted_people_leave_the_index(api, member, staff, db, index_now):
    await db.delete(staff["smith"].person)
    await index_now()
    assert await found(await api(member), "alice") == []


async def test_kind_filter_facets_and_pages(api, member, make_person, index_now):
    for n in range(25):
        await make_person(f"Tester {n:02d}", username=f"tester{n}", title="Quality engineer")
    await index_now()
    client = await api(member)
    first = (await client.get("/api/v1/search", params={"q": "quality", "kind": "person"})).json()
    second = (await client.get("/api/v1/search", params={"q": "quality", "page": 2})).json()
    assert first["total"] == 25 and first["facets"] == {"person": 25}
    assert len(first["items"]) == 20 and len(second["items"]) == 5
    assert not {i["id"] for i in first["items"]} & {i["id"] for i in second["items"]}


async def test_large_counts_say_they_are_estimates(api, search_app, client, login, member, make_person, index_now,
                                                   monkeypatch):
    # A sample of 1 in 2 documents and 3 sampled matches as "many" stand in for a large index.
    monkeypatch.setattr(tantivy_backend, "SAMPLE_RATE", 2)
    monkeypatch.setattr(tantivy_backend, "MIN_SAMPLED", 3)
    for n in range(25):
        await make_person(f"Tester {n:02d}", username=f"tester{n}", title="Quality engineer")
    await index_now()
    body = (await (await api(member)).get("/api/v1/search", params={"q": "quality"})).json()
    assert body["total_is_estimate"] and body["estimated_facets"] == ["person"]
    assert 10 <= body["total"] <= 40 and len(body["items"]) == 20
    await login(client, member)
    page = (await client.get("/search", params={"q": "quality"})).text
    assert f"about {body['total']} results" in page and f"People (about {body['total']})" in page
    exact = (await (await api(member)).get("/api/v1/search", params={"q": "tester 07"})).json()
    assert exact["total"] == 1 and not exact["total_is_estimate"] and exact["estimated_facets"] == []


async def test_exclusion_and_phrases(api, member, staff):
    client = await api(member)
    assert set(await found(client, "software")) == {"Alice Smith"}
    assert set(await found(client, "工程師")) == {"林志明", "陳美玲"}
    assert await found(client, "工程師 -林志明") == ["陳美玲"]
    assert await found(client, "工程师 -资深") == ["林志明"]
    assert await found(client, '"community events"') == ["張偉"]
    assert await found(client, '"events community"') == []


async def test_did_you_mean_for_a_query_with_no_results(api, member, staff):
    body = (await (await api(member)).get("/api/v1/search", params={"q": "architekt"})).json()
    assert body["total"] == 0 and body["did_you_mean"] == "architect"


async def test_suggestions_as_one_types(api, guest, member, staff):
    client = await api(member)
    response = await client.get("/api/v1/search/suggest", params={"q": "zhang"})
    assert [i["title"] for i in response.json()["items"]] == ["張偉"]
    response = await client.get("/api/v1/search/suggest", params={"q": "林志"})
    assert [i["title"] for i in response.json()["items"]] == ["林志明"]
    # Guests are never suggested people they may not see.
    response = await (await api(guest)).get("/api/v1/search/suggest", params={"q": "zhang"})
    assert response.json()["items"] == []


BAD_QUERIES = [
    "", " ", "x" * 10_000, "林" * 3_400, "🙂🙂🙂", "\x00\x01\x1f", '"unbalanced', 'a "b', "title:foo AND (bar OR",
    "foo^3~2 [a TO b] {c} /re/ *", "'; DROP TABLE person; --", "SELECT * FROM person WHERE 1=1", "-", "--x", '""',
    "\\", "%_%", "NOT", "a" * 200 + " " + "b" * 200,
]


@pytest.mark.parametrize("q", BAD_QUERIES)
async def test_odd_queries_give_a_normal_answer(api, member, staff, q):
    response = await (await api(member)).get("/api/v1/search", params={"q": q})
    assert response.status_code == 200, response.text
    assert isinstance(response.json()["items"], list)


async def test_invalid_filters_are_refused_naming_the_field(api, member):
    client = await api(member)
    assert "kind" in field_errors(await client.get("/api/v1/search", params={"q": "x", "kind": "spaceship"}))
    assert "page" in field_errors(await client.get("/api/v1/search", params={"q": "x", "page": 0}))
    assert "order" in field_errors(await client.get("/api/v1/search", params={"q": "x", "order": "random"}))
    assert "since" in str(field_errors(await client.get("/api/v1/search", params={"q": "x", "since": "soon"})))
    assert "community" in str(field_errors(await client.get("/api/v1/search", params={"community": "abc"})))
    assert "until" in field_errors(await client.get("/api/v1/search",
                                                    params={"q": "x", "since": "2026-02-01", "until": "2026-01-01"}))


async def test_search_needs_a_signed_in_person(search_app):
    import httpx

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=search_app), base_url="http://t") as client:
        assert (await client.get("/api/v1/search", params={"q": "x"})).status_code == 401


async def test_guest_role_people_are_marked_external(api, member, make_person, index_now):
    await make_person("Pat Partner", role=Role.GUEST, username="pat", manager_id=member.id)
    await index_now()
    items = (await (await api(member)).get("/api/v1/search", params={"q": "partner"})).json()["items"]
    assert items[0]["external"] is True


async def test_search_queries_do_not_grow_with_the_page(api, database, member, make_person, index_now):
    from tests.people.test_query_counts import counting

    for n in range(20):
        await make_person(f"Counted {n}", username=f"counted{n}", title="Analyst")
    await index_now()
    client = await api(member)
    await client.get("/api/v1/me")  # the first use of a token records it: not part of the count
    with counting(database) as small:
        assert len((await client.get("/api/v1/search", params={"q": "analyst", "per_page": 2})).json()["items"]) == 2
    with counting(database) as large:
        assert len((await client.get("/api/v1/search", params={"q": "analyst", "per_page": 20})).json()["items"]) == 20
    # savepoint, token, the keys from community and campaign memberships, hydration, release
    assert len(large) == len(small) <= 6, large
