"""Server-rendered pages: one Jinja environment, translated through the same gettext as everything else."""

from __future__ import annotations

import contextvars
import datetime as dt
import hashlib
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_datetime, format_time
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from socius.core import i18n
from socius.core.auth import get_principal

PACKAGE = Path(__file__).resolve().parent.parent
TEMPLATES = PACKAGE / "templates"
STATIC = PACKAGE / "static"


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    from socius.people.web import FIELD_LABELS

    env.filters["when"] = format_when
    env.globals.update(
        local_time=local_time,
        static=static_url,
        FIELD_LABELS=FIELD_LABELS,
        LOCALES=i18n.LOCALES,
        LOCALE_NAMES=i18n.LOCALE_NAMES,
    )
    return env


_viewer_zone: contextvars.ContextVar[str] = contextvars.ContextVar("socius_viewer_zone", default="UTC")


def format_when(value: dt.datetime | None, format: str = "medium") -> str:
    """A moment in the viewer's language and time zone (e.g. 2026年11月23日 下午2:05)."""
    if value is None:
        return ""
    return format_datetime(value, format=format, tzinfo=ZoneInfo(_viewer_zone.get()),
                           locale=i18n.current_locale())


def local_time(time_zone: str | None) -> str:
    """The time now where someone is, in the viewer's language: for "it is 09:30 for them"."""
    if not time_zone:
        return ""
    try:
        zone = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        return ""
    return format_time(dt.datetime.now(zone), format="short", tzinfo=zone, locale=i18n.current_locale())


@cache
def static_url(path: str) -> str:
    """A static file's URL with a content hash, so browsers may cache it for a year."""
    digest = hashlib.sha256((STATIC / path).read_bytes()).hexdigest()[:12]
    return f"/static/{path}?v={digest}"


def render(request: Request, template: str, context: dict[str, Any] | None = None, status: int = 200,
           headers: dict[str, str] | None = None) -> HTMLResponse:
    from socius.core.csrf import csrf_token_for

    locale = i18n.current_locale()
    principal = get_principal(request)
    base = {
        "request": request,
        "principal": principal,
        "locale": locale,
        "html_lang": i18n.HTML_LANG[locale],
        "csrf_token": csrf_token_for(request),
        "is_htmx": request.headers.get("HX-Request") == "true",
    }
    zone = principal.time_zone or request.app.state.settings.default_time_zone
    token = _viewer_zone.set(zone)
    try:
        html = environment().get_template(template).render({**base, **(context or {})})
    finally:
        _viewer_zone.reset(token)
    return HTMLResponse(html, status_code=status, headers=headers)
