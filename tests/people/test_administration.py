"""Administrators add people, issue one-time passwords, change roles, deactivate and reactivate."""

from __future__ import annotations

import re

from httpx import ASGITransport, AsyncClient

from tests.conftest import csrf_from


async def test_admin_adds_a_person_with_a_login_who_must_choose_a_password(app, client, admin, login):
    token = await login(client, admin)
    page = await client.post("/admin/people/new", data={
        "csrf_token": token, "display_name": "王小明", "name_native": "王小明", "email": "xiaoming@example.com",
        "department": "業務部", "role": "member", "username": "xiaoming",
    })
    assert page.status_code == 200
    password = re.search(r'id="temporary-password">([^<]+)<', page.text).group(1)
    assert re.fullmatch(r"[a-z2-9]{4}(-[a-z2-9]{4}){3}", password)

    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver",
                           headers={"Accept-Language": "en"}) as newcomer:
        form_token = await csrf_from(newcomer)
        signed_in = await newcomer.post("/login", data={"username": "XiaoMing", "password": password,
                                                        "csrf_token": form_token})
        assert signed_in.headers["location"] == "/settings?must_change=1#password"
        settings = await newcomer.get("/settings?must_change=1")
        assert "one-time password" in settings.text
        session_token = re.search(r'name="csrf_token" value="([^"]+)"', settings.text).group(1)
        changed = await newcomer.post("/settings/password", data={
            "csrf_token": session_token, "current": password, "new": "my-own-long-password",
            "repeat": "my-own-long-password"})
        assert changed.status_code == 303

        form_token = await csrf_from(newcomer)
        again = await newcomer.post("/login", data={"username": "xiaoming", "password": "my-own-long-password",
                                                    "csrf_token": form_token})
        assert again.headers["location"] == "/"  # no longer asked to change it
        old = await newcomer.post("/login", data={"username": "xiaoming", "password": password,
                                                  "csrf_token": await csrf_from(newcomer, "/settings")})
        assert old.status_code == 200 and "not correct" in old.text


async def test_add_person_form_names_bad_fields_and_adds_nobody(client, admin, member, login):
    token = await login(client, admin)
    page = await client.post("/admin/people/new", data={
        "csrf_token": token, "display_name": "", "email": "meiling@EXAMPLE.com", "username": member.username,
        "role": "member"})
    assert page.status_code == 422
    assert "is already taken" in page.text
    listing = await client.get("/api/v1/people", headers={"Accept": "application/json"}, params={"q": "meiling"})
    assert listing.status_code == 200


async def test_api_adds_people_and_refuses_members(app, admin, member, bearer):
    admin_api, member_api = await bearer(app, admin), await bearer(app, member)
    created = await admin_api.post("/api/v1/people", json={
        "display_name": "Partner Pat", "role": "guest", "email": "pat@partner.example", "manager_id": member.id,
        "username": "pat"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["person"]["external"] is True and body["username"] == "pat" and body["temporary_password"]

    without_login = await admin_api.post("/api/v1/people", json={"display_name": "Directory Only"})
    assert without_login.status_code == 201 and without_login.json()["temporary_password"] is None

    refused = await member_api.post("/api/v1/people", json={"display_name": "Sneaky"})
    assert refused.status_code == 403
    bad_role = await admin_api.post("/api/v1/people", json={"display_name": "X", "role": "owner"})
    assert bad_role.status_code == 422 and bad_role.json()["error"]["fields"][0]["field"] == "role"


async def test_one_time_password_signs_the_person_out_everywhere(app, client, admin, member, bearer, login):
    member_api = await bearer(app, member)
    await login(client, member)
    admin_api = await bearer(app, admin)
    reset = await admin_api.post(f"/api/v1/people/{member.id}/password", json={})
    assert reset.status_code == 200 and reset.json()["username"] == member.username
    assert (await member_api.get("/api/v1/me")).status_code == 401
    assert (await client.get("/people")).status_code == 303


async def test_role_change_and_deactivation_through_the_api(app, admin, member, bearer):
    admin_api = await bearer(app, admin)
    promoted = await admin_api.put(f"/api/v1/people/{member.id}/role", json={"role": "administrator"})
    assert promoted.status_code == 200 and promoted.json()["role"] == "administrator"
    gone = await admin_api.post(f"/api/v1/people/{member.id}/deactivate")
    assert gone.json()["former"] is True
    back = await admin_api.post(f"/api/v1/people/{member.id}/reactivate")
    assert back.json()["former"] is False
    myself = await admin_api.post(f"/api/v1/people/{admin.id}/deactivate")
    assert myself.status_code == 422


async def test_admin_pages_are_refused_to_members(client, member, login):
    await login(client, member)
    assert (await client.get("/admin")).status_code == 403
    assert (await client.get("/admin/people/new")).status_code == 403
