"""Bad input: a clear 4xx naming the field, nothing changed, and never a 500."""

from __future__ import annotations

import pytest

from socius.core.pagination import encode_cursor
from tests.people.conftest import field_errors


async def profile(client, person_id: int) -> dict:
    response = await client.get(f"/api/v1/people/{person_id}")
    assert response.status_code == 200
    return response.json()


SELF_EDITS = [
    pytest.param({"display_name": "x" * 201}, "display_name", id="display-name-too-long"),
    pytest.param({"name_latin": "y" * 201}, "name_latin", id="latin-name-too-long"),
    pytest.param({"title": "t" * 201}, "title", id="title-too-long"),
    pytest.param({"phone": "1" * 65}, "phone", id="phone-too-long"),
    pytest.param({"about_md": "a" * 20_001}, "about_md", id="about-too-long"),
    pytest.param({"display_name": ""}, "display_name", id="display-name-empty"),
    pytest.param({"display_name": None}, "display_name", id="display-name-null"),
    pytest.param({"display_name": "Mei\u0007ling"}, "display_name", id="bell-in-name"),
    pytest.param({"title": "Engineer\u0000"}, "title", id="nul-in-title"),
    pytest.param({"department": "R&D\u001b[31m"}, "department", id="escape-in-department"),
    pytest.param({"about_md": "Hello\u0000world"}, "about_md", id="nul-in-about"),
    pytest.param({"links": [{"label": "Blog\u0000", "url": "https://example.com"}]}, "links", id="nul-in-link-label"),
    pytest.param({"phone": "call me maybe"}, "phone", id="phone-with-words"),
    pytest.param({"time_zone": "Mars/Olympus_Mons"}, "time_zone", id="unknown-time-zone"),
    pytest.param({"time_zone": "../../etc/passwd"}, "time_zone", id="path-as-time-zone"),
    pytest.param({"languages": ["en", "klingon!"]}, "languages", id="language-with-punctuation"),
    pytest.param({"languages": ["xx-Nowhere"]}, "languages", id="unknown-language"),
    pytest.param({"languages": ["en"] * 21 + ["fr"]}, "languages", id="too-many-languages"),
    pytest.param({"links": [{"label": "x", "url": "javascript:alert(1)"}]}, "links", id="javascript-link"),
    pytest.param({"links": [{"label": "x", "url": "ftp://files.example.com"}]}, "links", id="ftp-link"),
    pytest.param({"links": [{"label": "x", "url": "//example.com"}]}, "links", id="scheme-relative-link"),
    pytest.param({"guest_hidden": ["password"]}, "guest_hidden", id="unhideable-field"),
    pytest.param({"locale": "tlh"}, "locale", id="unknown-ui-language"),
    pytest.param({"title": "Fine", "time_zone": "Nowhere/Nothing"}, "time_zone", id="one-good-one-bad"),
    # Wrong JSON types, caught before the service.
    pytest.param({"display_name": 12345}, "display_name", id="number-as-name"),
    pytest.param({"languages": "en"}, "languages", id="string-as-languages"),
    pytest.param({"languages": [1, 2]}, "languages.0", id="numbers-as-languages"),
    pytest.param({"links": "https://example.com"}, "links", id="string-as-links"),
    pytest.param({"nickname": "Mei"}, "nickname", id="unknown-field"),
    pytest.param({"role": "administrator"}, "role", id="role-is-not-a-profile-field"),
]


@pytest.mark.parametrize(("body", "field"), SELF_EDITS)
async def test_bad_profile_field_is_named_and_nothing_changes(member, api, body, field):
    me = await api(member)
    before = await profile(me, member.id)
    errors = field_errors(await me.patch(f"/api/v1/people/{member.id}", json=body))
    assert field in errors, errors
    assert errors[field], "the reason is given"
    assert await profile(me, member.id) == before


async def test_every_bad_field_is_named_at_once(member, api):
    me = await api(member)
    errors = field_errors(await me.patch(f"/api/v1/people/{member.id}", json={
        "display_name": "x" * 201, "time_zone": "Nowhere/Nothing", "links": [{"label": "x", "url": "file:///etc"}],
    }))
    assert set(errors) == {"display_name", "time_zone", "links"}


async def test_messages_are_human_readable(member, api):
    me = await api(member)
    errors = field_errors(await me.patch(f"/api/v1/people/{member.id}", json={"display_name": "x" * 201}))
    assert errors["display_name"] == "must be at most 200 characters"
    errors = field_errors(await me.patch(f"/api/v1/people/{member.id}", json={"time_zone": "Mars/Base"}))
    assert "Asia/Taipei" in errors["time_zone"]


async def test_unknown_manager_is_refused(admin, member, api):
    admin_api = await api(admin)
    before = await profile(admin_api, member.id)
    errors = field_errors(await admin_api.patch(f"/api/v1/people/{member.id}", json={"manager_id": 987_654_321}))
    assert errors == {"manager_id": "is not a known person"}
    assert await profile(admin_api, member.id) == before


async def test_manager_id_beyond_the_integer_range_is_refused(admin, member, api):
    admin_api = await api(admin)
    before = await profile(admin_api, member.id)
    errors = field_errors(await admin_api.patch(f"/api/v1/people/{member.id}", json={"manager_id": 10**20}))
    assert "manager_id" in errors
    assert await profile(admin_api, member.id) == before


async def test_manager_cycle_is_refused(admin, make_person, api):
    c = await make_person("Carol Top")
    b = await make_person("Bob Middle", manager_id=c.id)
    a = await make_person("Alice Bottom", manager_id=b.id)
    admin_api = await api(admin)
    before = await profile(admin_api, c.id)
    errors = field_errors(await admin_api.patch(f"/api/v1/people/{c.id}", json={"manager_id": a.id}))
    assert errors == {"manager_id": "would make a reporting cycle"}
    assert await profile(admin_api, c.id) == before
    # The chain still renders without looping.
    assert (await profile(admin_api, a.id))["manager"]["id"] == b.id


async def test_manager_cannot_be_the_person_themselves(admin, member, api):
    admin_api = await api(admin)
    before = await profile(admin_api, member.id)
    errors = field_errors(await admin_api.patch(f"/api/v1/people/{member.id}", json={"manager_id": member.id}))
    assert errors == {"manager_id": "cannot be the person themselves"}
    assert await profile(admin_api, member.id) == before


async def test_a_guest_cannot_be_a_manager(admin, member, guest, api):
    admin_api = await api(admin)
    before = await profile(admin_api, member.id)
    errors = field_errors(await admin_api.patch(f"/api/v1/people/{member.id}", json={"manager_id": guest.id}))
    assert set(errors) == {"manager_id"}
    assert await profile(admin_api, member.id) == before


@pytest.mark.parametrize("email", ["ADA@EXAMPLE.COM", "  Ada@Example.com "])
async def test_duplicate_email_is_refused_whatever_its_case(admin, member, api, email):
    admin_api = await api(admin)
    before = await profile(admin_api, member.id)
    errors = field_errors(await admin_api.patch(f"/api/v1/people/{member.id}", json={"email": email}))
    assert errors == {"email": "is already used by another person"}
    assert await profile(admin_api, member.id) == before


async def test_invalid_email_is_refused(admin, member, api):
    admin_api = await api(admin)
    before = await profile(admin_api, member.id)
    errors = field_errors(await admin_api.patch(f"/api/v1/people/{member.id}", json={"email": "not-an-address"}))
    assert set(errors) == {"email"}
    assert await profile(admin_api, member.id) == before


@pytest.mark.parametrize("raw", [b'{"title": ', b"title=x", b"\xff\xfe\x00", b"[1, 2]", b'"just a string"'])
async def test_malformed_json_body_is_refused(member, api, raw):
    me = await api(member)
    before = await profile(me, member.id)
    response = await me.patch(f"/api/v1/people/{member.id}", content=raw,
                              headers={"Content-Type": "application/json"})
    errors = field_errors(response)
    assert "body" in errors, errors
    assert await profile(me, member.id) == before


async def test_bad_field_in_the_page_form_is_shown_and_nothing_changes(client, member, login, api):
    token = await login(client, member)
    response = await client.post(f"/people/{member.id}/edit", data={
        "csrf_token": token, "display_name": "陳美玲", "title": "Changed", "time_zone": "Mars/Olympus_Mons",
        "languages": "en, klingon!",
    })
    assert response.status_code == 422
    assert 'aria-invalid' in response.text or 'class="field-error"' in response.text
    assert "is not a known time zone" in response.text
    assert 'id="languages-error"' in response.text
    body = await profile(await api(member), member.id)
    assert body["title"] == "資深工程師" and body["time_zone"] is None


async def test_unknown_manager_in_the_admin_form_is_named(client, admin, member, login, api):
    token = await login(client, admin)
    response = await client.post(f"/people/{member.id}/edit", data={
        "csrf_token": token, "display_name": "陳美玲", "manager": "nobody@example.com",
    })
    assert response.status_code == 422
    assert 'id="manager_id-error"' in response.text
    assert (await profile(await api(admin), member.id))["manager"] is None


# --- the directory's query parameters --------------------------------------------------------------------

@pytest.mark.parametrize(("query", "field"), [
    pytest.param("limit=100000", "limit", id="huge-limit"),
    pytest.param("limit=0", "limit", id="zero-limit"),
    pytest.param("limit=-5", "limit", id="negative-limit"),
    pytest.param("limit=lots", "limit", id="text-limit"),
    pytest.param("cursor=not-a-cursor!!", "cursor", id="garbage-cursor"),
    pytest.param("cursor=" + "A" * 10_000, "cursor", id="10000-character-cursor"),
    pytest.param("cursor=" + encode_cursor("one", 2, 3), "cursor", id="cursor-with-wrong-types"),
    pytest.param("cursor=" + encode_cursor(1, "abc"), "cursor", id="cursor-too-short"),
    pytest.param("cursor=" + encode_cursor(0, "a\u0000b", 1), "cursor", id="cursor-with-nul"),
    pytest.param("q=" + "z" * 201, "q", id="query-too-long"),
    pytest.param("include_former=perhaps", "include_former", id="not-a-boolean"),
])
async def test_bad_directory_parameters_are_named(member, api, query, field):
    errors = field_errors(await (await api(member)).get(f"/api/v1/people?{query}"))
    assert field in errors, errors


@pytest.mark.parametrize("query", [
    "department=%00", "location=R%26D%00", "language=%00", "department=" + "d" * 5000,
    "cursor=" + encode_cursor(10**30, "x", 10**30), "cursor=" + encode_cursor(0, "x", -1),
])
async def test_odd_directory_parameters_never_crash(member, api, query):
    response = await (await api(member)).get(f"/api/v1/people?{query}")
    assert response.status_code < 500, response.text
    if response.status_code == 200:
        assert response.json()["items"] == [], "no one is in such a department or after such a cursor"
    else:
        field_errors(response)


async def test_a_query_of_nothing_but_control_characters_is_harmless(member, api):
    response = await (await api(member)).get("/api/v1/people?q=%00%07")
    assert response.status_code in (200, 422), response.text


async def test_bad_cursor_on_the_directory_page_is_a_clear_error(client, member, login):
    await login(client, member)
    response = await client.get("/people?cursor=%%%garbage")
    assert 400 <= response.status_code < 500
    assert "is not a valid cursor" in response.text


@pytest.mark.parametrize("path", ["/api/v1/people/abc", "/api/v1/people/1.5", "/api/v1/people/%20"])
async def test_non_numeric_person_id_is_named(member, api, path):
    errors = field_errors(await (await api(member)).get(path))
    assert "person_id" in errors


async def test_non_numeric_person_id_on_pages_is_a_client_error(client, member, login):
    await login(client, member)
    for path in ("/people/abc", "/people/abc/edit", "/orgchart/abc/reports"):
        response = await client.get(path)
        assert 400 <= response.status_code < 500, (path, response.status_code)


@pytest.mark.parametrize("path", ["/api/v1/people/99999999999999999999", "/api/v1/people/-1",
                                  "/api/v1/people/0"])
async def test_person_id_out_of_range_is_not_found(member, api, path):
    response = await (await api(member)).get(path)
    assert response.status_code in (404, 422), response.text
    assert response.json()["error"]["code"] in ("not_found", "invalid")


async def test_person_id_out_of_range_on_patch_changes_nothing(member, api):
    response = await (await api(member)).patch("/api/v1/people/99999999999999999999", json={"title": "x"})
    assert response.status_code in (404, 422), response.text
