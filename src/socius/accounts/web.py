"""Pages: sign in and out, language, settings (password, API tokens)."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from socius.accounts import invitations, service
from socius.accounts.models import Account
from socius.core import i18n
from socius.core.auth import LOCALE_COOKIE, SESSION_COOKIE
from socius.core.context import cookie_header
from socius.core.errors import Conflict, RateLimited, ValidationFailed
from socius.core.i18n import N_
from socius.core.requests import Caller, MaybeCaller, Session, client_ip, safe_next
from socius.core.templating import render
from socius.people import service as people

router = APIRouter(include_in_schema=False)


@router.get("/login")
async def login_form(request: Request, principal: MaybeCaller, next: str = "/") -> Response:
    if principal.is_authenticated:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "accounts/login.html", {"next": safe_next(next)})


def _limits(request: Request) -> service.LoginLimits:
    settings = request.app.state.settings
    return service.LoginLimits(settings.login_max_failures, dt.timedelta(minutes=settings.login_window_minutes))


@router.post("/login")
async def login(
    request: Request, db: Session, username: str = Form(""), password: str = Form(""), next: str = Form("/")
) -> Response:
    settings = request.app.state.settings
    limits = _limits(request)
    context = {"next": safe_next(next), "username": username[:64]}
    try:
        person = await service.authenticate(db, username, password, client_ip(request), limits)
    except RateLimited as error:
        return render(request, "accounts/login.html", {**context, "error": error.render_message()}, status=429)
    if person is None:
        # The same words whether the account exists or not; 200 so the recorded failure commits.
        message = i18n.gettext(N_("The username or password is not correct."))
        return render(request, "accounts/login.html", {**context, "error": message})
    raw = await service.start_session(
        db, person,
        absolute=dt.timedelta(hours=settings.session_absolute_hours),
        user_agent=request.headers.get("user-agent", ""),
        ip=client_ip(request),
        replaces=request.cookies.get(SESSION_COOKIE),
    )
    target = safe_next(next)
    if await service.must_change_password(db, person.id):
        target = "/settings?must_change=1#password"
    response = RedirectResponse(target, status_code=303)
    response.headers.append(
        "set-cookie",
        cookie_header(SESSION_COOKIE, raw, max_age=settings.session_absolute_hours * 3600,
                      secure=settings.secure_cookies).decode(),
    )
    if person.locale:
        response.headers.append("set-cookie", _locale_cookie(request, person.locale))
    return response


@router.post("/logout")
async def logout(request: Request, db: Session) -> Response:
    if raw := request.cookies.get(SESSION_COOKIE):
        await service.end_session(db, raw)
    response = RedirectResponse("/login", status_code=303)
    response.headers.append("set-cookie", cookie_header(
        SESSION_COOKIE, "", max_age=0, secure=request.app.state.settings.secure_cookies).decode())
    return response


def _locale_cookie(request: Request, locale: str) -> str:
    return cookie_header(LOCALE_COOKIE, locale, max_age=365 * 24 * 3600,
                         secure=request.app.state.settings.secure_cookies, http_only=False).decode()


@router.post("/language")
async def set_language(
    request: Request, db: Session, principal: MaybeCaller, locale: str = Form(...), next: str = Form("/")
) -> Response:
    """The language switcher: remembered in a cookie, and in the profile of whoever is signed in."""
    chosen = i18n.normalise_locale(locale)
    if chosen is None:
        raise ValidationFailed.one("locale", N_("must be one of {values}"), values=", ".join(i18n.LOCALES))
    if principal.is_authenticated:
        await people.update_profile(db, principal, principal.person_id, {"locale": chosen})
    response = RedirectResponse(safe_next(next), status_code=303)
    response.headers.append("set-cookie", _locale_cookie(request, chosen))
    return response


@router.get("/settings")
async def settings_page(request: Request, db: Session, principal: Caller) -> Response:
    return await _settings(request, db, principal)


async def _settings(request: Request, db, principal, status: int = 200, **extra) -> Response:
    tokens = await service.list_tokens(db, principal.person_id)
    has_account = await db.scalar(select(Account.id).where(Account.person_id == principal.person_id))
    context = {"tokens": tokens, "has_password": has_account is not None, **extra}
    return render(request, "accounts/settings.html", context, status=status)


@router.post("/settings/tokens")
async def create_token(request: Request, db: Session, principal: Caller, name: str = Form("")) -> Response:
    try:
        _token, raw = await service.create_token(db, principal.person_id, name, principal.person_id)
    except ValidationFailed as error:
        return await _settings(request, db, principal, token_errors=error.by_field(), status=422)
    return await _settings(request, db, principal, new_token=raw)


@router.post("/settings/tokens/{token_id}/revoke")
async def revoke_token(db: Session, principal: Caller, token_id: int) -> Response:
    await service.revoke_token(db, principal, token_id)
    return RedirectResponse("/settings", status_code=303)


@router.post("/settings/password")
async def change_password(
    request: Request, db: Session, principal: Caller,
    current: str = Form(""), new: str = Form(""), repeat: str = Form(""),
) -> Response:
    """A new password ends every other session: the person signs in again here."""
    try:
        changed = await service.change_password(db, principal.person_id, current, new, repeat, _limits(request))
    except (ValidationFailed, RateLimited) as error:
        errors = error.by_field() if isinstance(error, ValidationFailed) else {"current": error.render_message()}
        return await _settings(request, db, principal, password_errors=errors, status=error.status)
    if not changed:  # status 200 so the recorded failure commits
        message = i18n.gettext(N_("is not your current password"))
        return await _settings(request, db, principal, password_errors={"current": message})
    return RedirectResponse("/login?changed=1", status_code=303)


# --- a guest's invitation link (into a community or a campaign) -----------------------------------------------------

@router.get("/invitations/{token}")
async def invitation(request: Request, db: Session, principal: MaybeCaller, token: str) -> Response:
    found = await invitations.pending(db, token)
    return render(request, "accounts/invitation.html", {"found": found, "token": token, "errors": {}})


@router.post("/invitations/{token}")
async def accept_invitation(request: Request, db: Session, principal: MaybeCaller, token: str) -> Response:
    form = await request.form()
    try:
        found = await invitations.accept(db, token, form.get("password"), form.get("repeat"), ip=client_ip(request))
    except (ValidationFailed, Conflict) as error:
        found = await invitations.pending(db, token)
        message = "; ".join(error.by_field().values()) if isinstance(error, ValidationFailed) \
            else error.render_message()
        return render(request, "accounts/invitation.html", {
            "found": found, "token": token, "error": message,
            "errors": error.by_field() if isinstance(error, ValidationFailed) else {}}, status=error.status)
    settings = request.app.state.settings
    raw = await service.start_session(db, found.guest, absolute=dt.timedelta(hours=settings.session_absolute_hours),
                                      user_agent=request.headers.get("user-agent", ""), ip=client_ip(request),
                                      replaces=request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse(found.where.url, status_code=303)
    response.headers.append("set-cookie", cookie_header(
        SESSION_COOKIE, raw, max_age=settings.session_absolute_hours * 3600,
        secure=settings.secure_cookies).decode())
    return response
