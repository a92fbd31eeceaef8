"""CSRF protection for every state-changing request made with a cookie (or before sign-in).

Forms carry a hidden `csrf_token`; htmx sends the same token in `X-CSRF-Token`. Requests authenticated with a
bearer token are exempt: browsers never attach those by themselves.
"""

from __future__ import annotations

from fastapi import Request

from socius.accounts.service import csrf_token, csrf_valid
from socius.core.auth import ANON_COOKIE, get_principal
from socius.core.errors import CsrfFailed

SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _binding(request: Request) -> str | None:
    principal = get_principal(request)
    if principal.via == "session":
        return principal.csrf_secret
    return request.scope.get("state", {}).get("anon_id") or request.cookies.get(ANON_COOKIE)


def csrf_token_for(request: Request) -> str:
    binding = _binding(request)
    return csrf_token(request.app.state.settings.resolved_secret_key, binding) if binding else ""


def token_valid(request: Request, presented: str | None) -> bool:
    return csrf_valid(request.app.state.settings.resolved_secret_key, _binding(request), presented)


def streams_upload(endpoint):
    """Marks a route that reads its multipart body as a stream (file uploads): it checks the form's
    `csrf_token` itself, before it reads the file (files/upload.py), instead of this dependency reading
    the whole body first."""
    endpoint.streams_upload = True
    return endpoint


def needs_form_token(request: Request) -> bool:
    """An unsafe cookie request without the token header: the token must come in the form."""
    if request.method in SAFE_METHODS or get_principal(request).via == "token":
        return False
    return request.headers.get("X-CSRF-Token") is None


async def csrf_protect(request: Request) -> None:
    """A dependency on every route: refuses unsafe methods without a matching token."""
    if request.method in SAFE_METHODS:
        return
    if get_principal(request).via == "token" or request.url.path.startswith("/scim/"):
        return
    presented = request.headers.get("X-CSRF-Token")
    if presented is None and getattr(request.scope.get("endpoint"), "streams_upload", False) \
            and request.headers.get("content-type", "").startswith("multipart/form-data"):
        return
    if presented is None and request.headers.get("content-type", "").startswith(FORM_TYPES):
        form = await request.form()
        value = form.get("csrf_token")
        presented = value if isinstance(value, str) else None
    if not token_valid(request, presented):
        raise CsrfFailed()
