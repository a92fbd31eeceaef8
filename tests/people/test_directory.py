"""The people directory: finding people by any name they go by, filters, former people, paging, org chart."""

from __future__ import annotations

import pytest

from socius.people import service as people
from socius.people.models import Role


@pytest.fixture
async def office(make_person, member):
    """A small bilingual office around 陳美玲 (the `member` fixture: Chen Mei-ling, meiling@example.com)."""
    return {
        "meiling": member,
        "dawen": await make_person("陳大文", username="dwchan", name_native="陳大文", name_latin="Chan Tai-man",
                                   department="業務部", location="香港", languages=["zh-Hant", "yue"]),
        "meihua": await make_person("王美華", username="meihua", name_native="王美華",
                                    department="研發部", location="上海", languages=["zh-Hans", "en"]),
        "sophie": await make_person("Sophie Martin", username="smartin", name_latin="Sophie Martin",
                                    department="Marketing", location="Paris", languages=["fr", "en"]),
        "linling": await make_person("林玲", username="linling", name_native="林玲", department="研發部",
                                     location="台北", languages=["zh-Hant", "ja"]),
    }


async def names(client, query: str) -> list[str]:
    response = await client.get(f"/api/v1/people?{query}")
    assert response.status_code == 200, response.text
    return [p["display_name"] for p in response.json()["items"]]


@pytest.mark.parametrize(("q", "expected"), [
    pytest.param("陳美", ["陳美玲"], id="traditional-characters"),
    pytest.param("陳", ["陳大文", "陳美玲"], id="surname-character"),
    pytest.param("陈美玲", ["陳美玲"], id="simplified-form-of-traditional-name"),
    pytest.param("陈", ["陳大文", "陳美玲"], id="simplified-surname"),
    pytest.param("chenmeiling", ["陳美玲"], id="full-pinyin"),
    pytest.param("chen mei", ["陳美玲"], id="pinyin-with-space"),
    pytest.param("Chen Mei-ling", ["陳美玲"], id="latin-name-as-written"),
    pytest.param("cml", ["陳美玲"], id="initials"),
    pytest.param("meiling", ["陳美玲"], id="given-name-pinyin"),
    pytest.param("meihua", ["王美華"], id="given-name-pinyin-other"),
    pytest.param("martin", ["Sophie Martin"], id="latin-surname"),
    pytest.param("soph", ["Sophie Martin"], id="latin-given-name-prefix"),
    pytest.param("SOPHIE m", ["Sophie Martin"], id="latin-name-any-case"),
    pytest.param("chan tai", ["陳大文"], id="cantonese-latin-name"),
    pytest.param("dwch", ["陳大文"], id="email-prefix"),
    pytest.param("smartin@example.com", ["Sophie Martin"], id="whole-email"),
    pytest.param("SMartin@Exam", ["Sophie Martin"], id="email-typed-past-the-at-sign"),
    pytest.param("zzzz", [], id="no-match"),
])
async def test_search_finds_people_by_any_of_their_names(office, api, q, expected):
    client = await api(office["sophie"])
    assert sorted(await names(client, f"q={q}")) == sorted(expected)


async def test_search_as_you_type_on_the_page_returns_only_the_results(client, office, login):
    await login(client, office["sophie"])
    for typed in ("c", "ch", "che", "chen", "chenm"):
        response = await client.get(f"/people?q={typed}", headers={"HX-Request": "true", "HX-Target": "results"})
        assert response.status_code == 200
        assert "<html" not in response.text and "<form" not in response.text, "a fragment, not a page"
        assert "陳美玲" in response.text, typed
        assert "Sophie Martin" not in response.text
    assert "陳大文" not in response.text, "chenm is no longer a prefix of chendawen"

    full = await client.get("/people?q=chenm")
    assert "<html" in full.text and 'id="results"' in full.text and "陳美玲" in full.text


async def test_nobody_matching_says_so(client, office, login):
    await login(client, office["sophie"])
    response = await client.get("/people?q=qqqq", headers={"HX-Request": "true", "HX-Target": "results"})
    assert "Nobody matches “qqqq”." in response.text


async def test_exact_matches_rank_before_prefix_matches(make_person, member, api):
    # Alphabetically "wangari" sorts before "wangfang"; the exact surname match must still come first.
    await make_person("Wangari Maathai", name_latin="Wangari Maathai")
    await make_person("王芳", name_native="王芳", name_latin="Wang Fang")
    await make_person("Wangsa Putra", name_latin="Wangsa Putra")
    found = await names(await api(member), "q=wang")
    assert found[0] == "王芳"
    assert set(found[1:]) == {"Wangari Maathai", "Wangsa Putra"}
    assert found[1:] == ["Wangari Maathai", "Wangsa Putra"], "prefix matches in directory order"


async def test_results_without_a_query_are_in_directory_order(office, api):
    found = await names(await api(office["sophie"]), "limit=100")
    # Latin name, else the pinyin of the Chinese name: chan, chen, lin, sophie, wang.
    assert found == ["陳大文", "陳美玲", "林玲", "Sophie Martin", "王美華"]


async def test_filters_by_department_location_and_language(office, client, login, api):
    me = await api(office["sophie"])
    assert sorted(await names(me, "department=研發部")) == ["林玲", "王美華", "陳美玲"]
    assert await names(me, "location=上海") == ["王美華"]
    assert sorted(await names(me, "language=en")) == ["Sophie Martin", "王美華"]
    assert await names(me, "language=ja") == ["林玲"]
    assert await names(me, "department=研發部&location=台北&q=linl") == ["林玲"]
    assert await names(me, "department=研發部&language=fr") == []

    await login(client, office["sophie"])
    page = await client.get("/people?department=業務部")
    assert "陳大文" in page.text and "陳美玲" not in page.text
    assert '<option value="研發部" >研發部 (3)</option>' in page.text.replace("selected", "")


async def test_former_people_are_found_only_when_asked_for(db, office, api):
    await people.deactivate(db, None, office["dawen"].id)
    await db.flush()
    me = await api(office["sophie"])
    assert await names(me, "q=陳") == ["陳美玲"]
    with_former = (await me.get("/api/v1/people?q=陳&include_former=true")).json()["items"]
    assert {p["display_name"]: p["former"] for p in with_former} == {"陳大文": True, "陳美玲": False}


async def test_former_people_on_the_directory_page(client, db, office, login):
    await people.deactivate(db, None, office["dawen"].id)
    await db.flush()
    await login(client, office["sophie"])
    assert "陳大文" not in (await client.get("/people?q=chen")).text
    page = await client.get("/people?q=chen&include_former=true")
    assert "陳大文" in page.text and '<span class="badge former">Former</span>' in page.text


async def test_cursor_pagination_returns_everyone_exactly_once_in_a_stable_order(db, member, api):
    for n in range(44):
        # Same sort key for some, so the id must break ties.
        await people.create_person(db, None, display_name=f"Pager {n % 7}", email=f"pager{n}@example.com")
    await db.flush()
    me = await api(member)

    async def walk() -> list[int]:
        seen, cursor, pages = [], None, 0
        while True:
            query = "limit=20" + (f"&cursor={cursor}" if cursor else "")
            body = (await me.get(f"/api/v1/people?{query}")).json()
            seen += [p["id"] for p in body["items"]]
            pages += 1
            cursor = body["next_cursor"]
            if cursor is None:
                return seen, pages
            assert len(body["items"]) == 20

    first, pages = await walk()
    assert pages == 3
    assert len(first) == 45 == len(set(first))
    assert (await walk())[0] == first, "the same order every time"
    everyone = await me.get("/api/v1/people?limit=100")
    assert [p["id"] for p in everyone.json()["items"]] == first


async def test_cursor_pagination_with_a_query_keeps_ranked_order(db, member, api):
    # "Leo Zimmerman" sorts last alphabetically but matches "leo" exactly, so it leads; the rest follow in order.
    for n in range(24):
        await people.create_person(db, None, display_name=f"Leonard {n:02d}", name_latin=f"Leonard {n:02d}")
    await people.create_person(db, None, display_name="Leo Zimmerman", name_latin="Leo Zimmerman")
    await db.flush()
    me = await api(member)
    found, cursor = [], None
    for _ in range(3):
        body = (await me.get("/api/v1/people?q=leo&limit=10" + (f"&cursor={cursor}" if cursor else ""))).json()
        found += [p["display_name"] for p in body["items"]]
        cursor = body["next_cursor"]
    assert cursor is None
    assert found == ["Leo Zimmerman"] + [f"Leonard {n:02d}" for n in range(24)]


async def test_directory_page_links_to_the_next_page(client, db, member, login):
    for n in range(25):
        await people.create_person(db, None, display_name=f"Pager {n:02d}", name_latin=f"Pager {n:02d}")
    await db.flush()
    await login(client, member)
    first = await client.get("/people?q=pager")
    assert "Pager 00" in first.text and "Pager 19" in first.text and "Pager 20" not in first.text
    link = first.text.split('<p class="more"><a href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    second = await client.get(link)
    assert "Pager 20" in second.text and "Pager 24" in second.text and "Pager 00" not in second.text


@pytest.fixture
async def company(make_person):
    ceo = await make_person("Grace Top", title="Chief Executive")
    chair = await make_person("Charles Chair", title="Chair of the Board")
    vp = await make_person("Victor Middle", title="VP Engineering", manager_id=ceo.id)
    cfo = await make_person("Fanny Finance", title="CFO", manager_id=ceo.id)
    engineer = await make_person("Ethan Bottom", title="Engineer", manager_id=vp.id)
    await make_person("Gina Guest", role=Role.GUEST, manager_id=vp.id)
    return {"ceo": ceo, "chair": chair, "vp": vp, "cfo": cfo, "engineer": engineer}


async def test_org_chart_lists_the_people_at_the_top(client, company, login):
    await login(client, company["engineer"])
    page = await client.get("/orgchart")
    assert page.status_code == 200
    tree = page.text[page.text.index('<ul class="org tree">'):]
    assert "Grace Top" in tree and "Charles Chair" in tree
    for lower in ("Victor Middle", "Fanny Finance", "Ethan Bottom", "Gina Guest"):
        assert lower not in tree, lower
    assert f'hx-get="/orgchart/{company["ceo"].id}/reports"' in tree
    assert "2 reports" in tree


async def test_org_chart_opens_one_level_at_a_time(client, company, login):
    await login(client, company["engineer"])
    level = await client.get(f"/orgchart/{company['ceo'].id}/reports",
                             headers={"HX-Request": "true", "HX-Target": "next ul"})
    assert level.status_code == 200
    assert "<html" not in level.text
    assert "Victor Middle" in level.text and "Fanny Finance" in level.text
    assert "Ethan Bottom" not in level.text and "Grace Top" not in level.text
    assert f'hx-get="/orgchart/{company["vp"].id}/reports"' in level.text
    assert f'hx-get="/orgchart/{company["cfo"].id}/reports"' not in level.text, "no expander without reports"

    deeper = await client.get(f"/orgchart/{company['vp'].id}/reports")
    assert "Ethan Bottom" in deeper.text


async def test_org_chart_from_a_person_shows_the_line_above(client, company, login):
    await login(client, company["engineer"])
    page = await client.get(f"/orgchart?root={company['vp'].id}")
    assert page.status_code == 200
    crumbs = page.text[page.text.index('class="crumbs"'):page.text.index('<ul class="org tree">')]
    assert "Grace Top" in crumbs
    assert "Victor Middle" in page.text[page.text.index('<ul class="org tree">'):]
