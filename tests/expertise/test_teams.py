"""The team builder (cover every skill with few people, alternates, gaps, CSV, saved teams) and skills coverage."""

from __future__ import annotations

import csv
import io

import pytest

from tests.people.conftest import field_errors


@pytest.fixture
async def company(make_person, tag):
    """A small company: an all-rounder, specialists, and people to tag them."""
    people = {
        "all-rounder": await make_person("Alice Allround", location="台北", languages=["zh-TW", "en"]),
        "python": await make_person("=HYPERLINK(\"http://x\")", location="台北", languages=["zh-TW"]),
        "python2": await make_person("Pat Python", location="Monterrey", languages=["es"]),
        "concrete": await make_person("Carlos Concreto", location="Monterrey", languages=["es", "en"]),
        "security": await make_person("Sam Security", location="台北", languages=["en"]),
    }
    givers = [await make_person(f"Giver {n}") for n in range(5)]

    async def endorse(who: str, label: str, n: int) -> None:
        for giver in givers[:n]:
            await tag(giver, people[who], label)

    await endorse("all-rounder", "Python", 2)
    await endorse("all-rounder", "機器學習", 2)
    await endorse("python", "Python", 4)
    await endorse("python2", "Python", 3)
    await endorse("concrete", "預拌混凝土", 4)
    await endorse("security", "資訊安全", 3)
    await endorse("security", "Python", 1)
    return people


async def test_a_team_covers_every_skill_with_alternates_and_names_the_gaps(api, member, company):
    client = await api(member)
    response = await client.post("/api/v1/experts/team", json={
        "skills": ["python", "机器学习", "預拌混凝土", "資訊安全", "量子計算"]})
    assert response.status_code == 200, response.text
    team = response.json()
    members = {m["person"]["display_name"]: m for m in team["members"]}
    # The all-rounder covers two skills at once; nobody knows quantum computing.
    assert set(members) == {"Alice Allround", "Carlos Concreto", "Sam Security"}
    assert sorted(members["Alice Allround"]["skills"]) == ["python", "机器学习"]
    assert team["gaps"] == ["量子計算"]
    assert team["covered"] == ["python", "机器学习", "預拌混凝土", "資訊安全"]
    # Alternates for the all-rounder's slot: the Python specialists.
    assert [a["display_name"] for a in members["Alice Allround"]["alternates"]][:2] == [
        "=HYPERLINK(\"http://x\")", "Pat Python"]
    assert members["Carlos Concreto"]["evidence"] == ["tagged “預拌混凝土” by 4 colleagues"]


async def test_team_size_location_and_languages(api, member, company):
    client = await api(member)

    async def team(**body) -> dict:
        response = await client.post("/api/v1/experts/team", json=body)
        assert response.status_code == 200, response.text
        return response.json()

    # One member: whoever covers most (security, with some Python); the rest are gaps.
    small = await team(skills=["python", "預拌混凝土", "資訊安全"], size=1)
    assert [(m["person"]["display_name"], m["skills"]) for m in small["members"]] == [
        ("Sam Security", ["python", "資訊安全"])]
    assert small["gaps"] == ["預拌混凝土"]
    monterrey = await team(skills=["python", "預拌混凝土"], location="Monterrey")
    assert sorted(m["person"]["display_name"] for m in monterrey["members"]) == ["Carlos Concreto", "Pat Python"]
    spanish = await team(skills=["python", "資訊安全"], languages=["es"])
    assert [m["person"]["display_name"] for m in spanish["members"]] == ["Pat Python"]
    assert spanish["gaps"] == ["資訊安全"]


@pytest.mark.parametrize(("body", "field", "reason"), [
    ({"skills": []}, "skills", "must name at least one skill"),
    ({"skills": "  ,  "}, "skills", "must name at least one skill"),
    ({"skills": [1, 2]}, "skills", "must be a list of skills"),
    ({"skills": [f"s{n}" for n in range(13)]}, "skills", "may name at most 12 skills"),
    ({"skills": ["python"], "size": 0}, "size", "must be between 1 and 20"),
    ({"skills": ["python"], "size": "many"}, "size", "must be between 1 and 20"),
    ({"skills": ["python"], "languages": 5}, "languages", "must be a list of language codes"),
    ({"skills": ["python"], "title": ""}, "title", "must not be empty"),
])
async def test_bad_team_requests(api, member, body, field, reason):
    response = await (await api(member)).post("/api/v1/experts/team", json=body)
    assert field_errors(response) == {field: reason}


async def test_a_saved_team_is_shared_by_its_page_and_exported_safely(api, client, login, member, company, guest):
    api_client = await api(member)
    response = await api_client.post("/api/v1/experts/team", json={"skills": ["python", "預拌混凝土"],
                                                                   "title": "Plant automation"})
    assert response.status_code == 201, response.text
    url = response.json()["url"]
    assert (await api_client.get("/api/v1" + url)).json()["members"] == response.json()["members"]

    await login(client, member)
    page = await client.get(url)
    assert page.status_code == 200 and "Plant automation" in page.text and "Carlos Concreto" in page.text
    exported = await client.get(url + ".csv")
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.text.lstrip("\ufeff"))))
    assert rows[0][:2] == ["Name", "Title"]
    names = {r[0] for r in rows[1:]}
    # A name that looks like a formula is written so spreadsheets show it as text.
    assert names == {"'=HYPERLINK(\"http://x\")", "Carlos Concreto"}

    # The live builder page proposes, offers the CSV and saving.
    page = await client.get("/experts/team", params={"skills": "python, 資訊安全"})
    assert page.status_code == 200 and "Sam Security" in page.text and "/experts/team.csv?" in page.text
    live_csv = await client.get("/experts/team.csv", params={"skills": "python"})
    assert "'=HYPERLINK" in live_csv.text

    # Guests see no saved teams.
    assert (await (await api(guest)).get("/api/v1" + url)).status_code == 403


async def test_skills_coverage_by_department(api, member, make_person, tag):
    lab = [await make_person(f"Lab {n}", department="實驗室") for n in range(3)]
    sales = await make_person("Sales", department="業務部")
    for person in lab:
        await tag(person, person, "色譜分析")
    await tag(lab[0], lab[0], "質譜儀")
    await tag(sales, sales, "色譜分析")
    client = await api(member)

    whole = (await client.get("/api/v1/expertise/coverage", params={"below": 2})).json()
    assert [(t["label"], t["people"]) for t in whole["tags"]][:2] == [("色譜分析", 4), ("質譜儀", 1)]
    assert [t["label"] for t in whole["thin"]] == ["質譜儀"]
    lab_only = (await client.get("/api/v1/expertise/coverage", params={"department": "實驗室", "below": 4})).json()
    assert lab_only["people"] == 3
    assert [(t["label"], t["people"]) for t in lab_only["tags"]] == [("色譜分析", 3), ("質譜儀", 1)]
    assert [t["label"] for t in lab_only["thin"]] == ["質譜儀", "色譜分析"]
    assert field_errors(await client.get("/api/v1/expertise/coverage", params={"below": 0})) == {
        "below": "must be between 1 and 1000"}
