"""Signing in and out: cookies, rotation, rate limits that reveal nothing, CSRF, expiry."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from socius.accounts.models import WebSession
from socius.accounts.service import sha256
from tests.conftest import csrf_from, sign_in


async def test_sign_in_sets_a_protected_session_cookie_and_opens_the_directory(client, member):
    response = await sign_in(client, member)
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert "socius_session=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    page = await client.get("/people")
    assert page.status_code == 200
    assert "陳美玲" in page.text


async def test_wrong_password_and_unknown_user_get_the_same_answer(client, member):
    wrong = await sign_in(client, member, password="not-the-password")
    token = await csrf_from(client)
    unknown = await client.post("/login", data={"username": "nobody-here", "password": "whatever-123",
                                                "csrf_token": token})
    assert wrong.status_code == unknown.status_code == 200
    assert "The username or password is not correct." in wrong.text
    assert "The username or password is not correct." in unknown.text
    assert "socius_session=" not in wrong.headers.get("set-cookie", "")


async def test_repeated_failures_lock_the_username_even_for_the_right_password(client, member):
    for _ in range(5):
        assert "not correct" in (await sign_in(client, member, password="wrong-password")).text
    locked = await sign_in(client, member)
    assert locked.status_code == 429
    assert "Too many attempts" in locked.text


async def test_unknown_usernames_are_rate_limited_too(client):
    token = await csrf_from(client)
    statuses = []
    for _ in range(6):
        r = await client.post("/login", data={"username": "ghost", "password": "x" * 12, "csrf_token": token})
        statuses.append(r.status_code)
    assert statuses == [200] * 5 + [429]


async def test_login_form_without_csrf_token_is_refused(client, member):
    response = await client.post("/login", data={"username": member.username, "password": member.password})
    assert response.status_code == 403
    assert "socius_session=" not in response.headers.get("set-cookie", "")


async def test_signing_in_again_rotates_the_session(client, member, db, login):
    token = await login(client, member)
    first = client.cookies.get("socius_session")
    response = await client.post("/login", data={"username": member.username, "password": member.password,
                                                 "csrf_token": token})
    assert response.status_code == 303
    second = client.cookies.get("socius_session")
    assert first != second
    assert await db.get(WebSession, sha256(first)) is None
    assert await db.get(WebSession, sha256(second)) is not None


async def test_sign_out_ends_the_session_on_the_server(client, member, login):
    token = await login(client, member)
    raw = client.cookies.get("socius_session")
    response = await client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 303
    client.cookies.set("socius_session", raw)  # a stolen copy of the cookie is worthless now
    page = await client.get("/people")
    assert page.status_code == 303 and page.headers["location"].startswith("/login")


async def test_state_changing_request_with_session_but_no_csrf_token_is_refused(client, member, login):
    await login(client, member)
    response = await client.post("/settings/tokens", data={"name": "sneaky"})
    assert response.status_code == 403
    assert "form has expired" in response.text


async def test_idle_session_expires(client, member, login, db):
    await login(client, member)
    raw = client.cookies.get("socius_session")
    await db.execute(update(WebSession).where(WebSession.token_hash == sha256(raw))
                     .values(last_seen_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=9)))
    response = await client.get("/people")
    assert response.status_code == 303
    assert await db.scalar(select(WebSession).where(WebSession.token_hash == sha256(raw))) is None


async def test_absolute_expiry_ends_an_active_session(client, member, login, db):
    await login(client, member)
    raw = client.cookies.get("socius_session")
    await db.execute(update(WebSession).where(WebSession.token_hash == sha256(raw))
                     .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
    assert (await client.get("/people")).status_code == 303


async def test_pages_redirect_to_sign_in_and_back(client, member):
    response = await client.get("/people?q=chen")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/people%3Fq%3Dchen"


async def test_open_redirects_are_not_followed_after_sign_in(client, member):
    token = await csrf_from(client)
    response = await client.post("/login", data={"username": member.username, "password": member.password,
                                                 "csrf_token": token, "next": "//evil.example/x"})
    assert response.headers["location"] == "/"


async def test_guessing_the_current_password_from_a_signed_in_session_is_rate_limited(client, member, login):
    token = await login(client, member)
    for _ in range(5):
        wrong = await client.post("/settings/password", data={
            "csrf_token": token, "current": "a-wrong-guess!", "new": "new-password-123", "repeat": "new-password-123"})
        assert "is not your current password" in wrong.text
    right = await client.post("/settings/password", data={
        "csrf_token": token, "current": member.password, "new": "new-password-123", "repeat": "new-password-123"})
    assert right.status_code == 429
