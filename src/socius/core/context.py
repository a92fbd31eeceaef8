"""Per-request context: who is calling, in which language, and the headers every response carries."""

from __future__ import annotations

import datetime as dt
import secrets
from http.cookies import SimpleCookie

from starlette.requests import Request

from socius.accounts import service as accounts
from socius.core import i18n
from socius.core.auth import ANON_COOKIE, ANONYMOUS, LOCALE_COOKIE, SESSION_COOKIE
from socius.core.db import get_session

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        b"object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
    ),
]


def cookie_header(name: str, value: str, *, max_age: int | None, secure: bool, http_only: bool = True) -> bytes:
    cookie: SimpleCookie = SimpleCookie()
    cookie[name] = value
    morsel = cookie[name]
    morsel["path"] = "/"
    morsel["samesite"] = "Lax"
    if http_only:
        morsel["httponly"] = True
    if secure:
        morsel["secure"] = True
    if max_age is not None:
        morsel["max-age"] = max_age
    return morsel.OutputString().encode()


class RequestContextMiddleware:
    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/static/"):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        settings = request.app.state.settings
        state = scope.setdefault("state", {})
        principal = ANONYMOUS
        extra_cookies: list[bytes] = []

        authorization = request.headers.get("authorization", "")
        if authorization:
            scheme, _, credentials = authorization.partition(" ")
            if scheme.lower() == "bearer" and credentials:
                db = await get_session(request)
                principal = await accounts.resolve_token(db, credentials.strip()) or ANONYMOUS
            state["bad_credentials"] = principal is ANONYMOUS
        elif raw := request.cookies.get(SESSION_COOKIE):
            db = await get_session(request)
            idle = dt.timedelta(minutes=settings.session_idle_minutes)
            principal = await accounts.resolve_session(db, raw, idle) or ANONYMOUS
            if principal is ANONYMOUS:  # expired or revoked: forget it
                extra_cookies.append(cookie_header(SESSION_COOKIE, "", max_age=0, secure=settings.secure_cookies))
        if not authorization and principal is ANONYMOUS and not request.cookies.get(ANON_COOKIE):
            state["anon_id"] = secrets.token_urlsafe(24)
            extra_cookies.append(
                cookie_header(ANON_COOKIE, state["anon_id"], max_age=None, secure=settings.secure_cookies)
            )
        state["principal"] = principal

        locale = (
            principal.locale
            or i18n.normalise_locale(request.cookies.get(LOCALE_COOKIE))
            or i18n.negotiate(request.headers.get("accept-language"), settings.default_locale)
        )
        token = i18n.set_locale(locale)

        async def send_wrapper(message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in SECURITY_HEADERS if k not in present]
                headers += [(b"set-cookie", c) for c in extra_cookies]
                headers.append((b"content-language", i18n.HTML_LANG[i18n.current_locale()].encode()))
                if b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            i18n._current.reset(token)
