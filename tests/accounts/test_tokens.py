"""Personal API tokens: shown once, stored hashed, usable as Bearer, revocable; sessions end on deactivation."""

from __future__ import annotations

import re

from sqlalchemy import select

from socius.accounts.models import ApiToken
from socius.accounts.service import sha256


async def test_token_created_on_the_settings_page_is_shown_once_and_works_for_the_api(app, client, member, login, db):
    token = await login(client, member)
    page = await client.post("/settings/tokens", data={"name": "report script", "csrf_token": token})
    assert page.status_code == 200
    raw = re.search(r'id="new-token">([^<]+)<', page.text).group(1)
    stored = await db.scalar(select(ApiToken).where(ApiToken.person_id == member.id))
    assert stored.token_hash == sha256(raw) and raw not in (stored.token_hash, stored.prefix)
    again = await client.get("/settings")
    assert raw not in again.text and stored.prefix in again.text

    client.cookies.clear()
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
    assert me.status_code == 200 and me.json()["id"] == member.id


async def test_revoked_token_is_refused(app, member, bearer, db):
    api = await bearer(app, member)
    assert (await api.get("/api/v1/me")).status_code == 200
    token_id = (await api.get("/api/v1/tokens")).json()[0]["id"]
    assert (await api.delete(f"/api/v1/tokens/{token_id}")).status_code == 204
    refused = await api.get("/api/v1/me")
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "not_authenticated"
    assert refused.headers["www-authenticate"] == "Bearer"


async def test_api_without_credentials_or_with_a_made_up_token_is_401(client):
    assert (await client.get("/api/v1/people")).status_code == 401
    made_up = await client.get("/api/v1/people", headers={"Authorization": "Bearer sct_made-up"})
    assert made_up.status_code == 401


async def test_token_api_creates_lists_and_cannot_revoke_someone_elses(app, member, make_person, bearer):
    other = await make_person("Other Person")
    mine, theirs = await bearer(app, member), await bearer(app, other)
    created = await mine.post("/api/v1/tokens", json={"name": "ci"})
    assert created.status_code == 201 and created.json()["token"].startswith("sct_")
    listed = (await mine.get("/api/v1/tokens")).json()
    assert {t["name"] for t in listed} == {"tests", "ci"} and all("token" not in t for t in listed)
    assert (await theirs.delete(f"/api/v1/tokens/{created.json()['id']}")).status_code == 404


async def test_token_name_is_required(app, member, bearer):
    api = await bearer(app, member)
    response = await api.post("/api/v1/tokens", json={"name": "  "})
    assert response.status_code == 422
    assert response.json()["error"]["fields"] == [{"field": "name", "reason": "is required"}]


async def test_bearer_requests_need_no_csrf_token_but_cookie_requests_do(app, client, member, bearer, login):
    api = await bearer(app, member)
    assert (await api.post("/api/v1/tokens", json={"name": "x"})).status_code == 201
    await login(client, member)
    assert (await client.post("/api/v1/tokens", json={"name": "y"})).status_code == 403


async def test_deactivation_signs_a_person_out_everywhere(app, client, admin, member, login, bearer):
    api = await bearer(app, member)
    await login(client, member)
    admin_api = await bearer(app, admin)

    from httpx import ASGITransport, AsyncClient
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver",
                           headers={"Accept-Language": "en"}) as admin_browser:
        token = await login(admin_browser, admin)
        response = await admin_browser.post(f"/people/{member.id}/deactivate", data={"csrf_token": token})
        assert response.status_code == 303

    assert (await client.get("/people")).status_code == 303  # session gone
    assert (await api.get("/api/v1/me")).status_code == 401  # token revoked
    profile = (await admin_api.get(f"/api/v1/people/{member.id}")).json()
    assert profile["former"] is True and profile["display_name"] == "陳美玲"
