"""The app shell: health, metrics, OpenAPI, the error tree, security headers, languages."""

from __future__ import annotations

from tests.conftest import csrf_from


async def test_healthz_checks_the_database(client):
    response = await client.get("/healthz")
    assert response.status_code == 200 and response.json()["database"] == "ok"


async def test_metrics_count_requests_by_route_template(client, member, login):
    await login(client, member)
    await client.get(f"/people/{member.id}")
    body = (await client.get("/metrics")).text
    assert 'socius_http_requests_total{method="GET",route="/people/{person_id}",status="200"}' in body


async def test_openapi_documents_the_people_api(client):
    spec = (await client.get("/api/v1/openapi.json")).json()
    assert "/api/v1/people" in spec["paths"] and "/api/v1/people/{person_id}" in spec["paths"]


async def test_unknown_api_route_is_a_json_404_and_unknown_page_an_html_404(client, member, login):
    api = await client.get("/api/v1/nothing-here")
    assert api.status_code == 404 and api.json()["error"]["code"] == "not_found"
    await login(client, member)
    page = await client.get("/no-such-page")
    assert page.status_code == 404 and "text/html" in page.headers["content-type"]


async def test_wrong_method_is_405_not_500(client):
    page = await client.delete("/healthz")
    assert page.status_code == 405 and "text/html" in page.headers["content-type"]
    api = await client.put("/api/v1/me", headers={"Authorization": "Bearer sct_x"})
    assert api.status_code == 405 and api.json()["error"]["code"] == "method_not_allowed"


async def test_every_page_carries_security_headers_and_no_store(client):
    response = await client.get("/login")
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"


async def test_language_follows_accept_language_then_the_switcher(client, member, login, db):
    zh_tw = await client.get("/login", headers={"Accept-Language": "zh-TW,zh;q=0.9,en;q=0.5"})
    assert '<html lang="zh-Hant">' in zh_tw.text
    zh_cn = await client.get("/login", headers={"Accept-Language": "zh-CN"})
    assert '<html lang="zh-Hans">' in zh_cn.text

    token = await login(client, member)
    switched = await client.post("/language", data={"locale": "zh_Hans", "next": "/people", "csrf_token": token})
    assert switched.status_code == 303 and switched.headers["location"] == "/people"
    page = await client.get("/people", headers={"Accept-Language": "en"})
    assert '<html lang="zh-Hans">' in page.text  # the person's choice wins over the browser's
    await db.refresh(member.person)
    assert member.person.locale == "zh_Hans"


async def test_language_switcher_refuses_unknown_languages(client):
    token = await csrf_from(client)
    response = await client.post("/language", data={"locale": "klingon", "csrf_token": token},
                                 headers={"Accept": "application/json"})
    assert response.status_code == 422
    assert response.json()["error"]["fields"][0]["field"] == "locale"


async def test_error_messages_are_translated(client):
    response = await client.get("/api/v1/people", headers={"Accept-Language": "zh-TW"})
    assert response.status_code == 401
    assert response.json()["error"]["message"] != "Please sign in."
