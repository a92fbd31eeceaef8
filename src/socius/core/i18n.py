"""Languages: zh_Hant, zh_Hans and en catalogs, read from the .po files at start.

The current language is a context variable set per request (user setting, then cookie, then Accept-Language)
so services, errors and templates all translate through the same `gettext`.
"""

from __future__ import annotations

import contextvars
from functools import cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.pofile import read_po

LOCALES = ("zh_Hant", "zh_Hans", "en")
LOCALE_NAMES = {"zh_Hant": "繁體中文", "zh_Hans": "简体中文", "en": "English"}
HTML_LANG = {"zh_Hant": "zh-Hant", "zh_Hans": "zh-Hans", "en": "en"}
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"

_current = contextvars.ContextVar("socius_locale", default="en")


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated later, where it is shown."""
    return message


@cache
def catalog(locale: str) -> dict[str, str | tuple[str, ...]]:
    path = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return {}
    with path.open("rb") as f:
        po = read_po(f, locale=locale)
    out: dict = {}
    for m in po:
        if not m.id or m.fuzzy:
            continue
        if isinstance(m.id, tuple):
            if all(m.string):
                out[m.id[0]] = tuple(m.string)
        elif m.string:
            out[m.id] = m.string
    return out


def current_locale() -> str:
    return _current.get()


def set_locale(locale: str) -> contextvars.Token:
    return _current.set(locale if locale in LOCALES else "en")


def gettext(message: str) -> str:
    found = catalog(_current.get()).get(message)
    return found if isinstance(found, str) else message


def ngettext(singular: str, plural: str, n: int) -> str:
    found = catalog(_current.get()).get(singular)
    if isinstance(found, tuple):
        # Chinese has one form; English two.
        return found[0] if len(found) == 1 or n == 1 else found[1]
    return singular if n == 1 else plural


_ = gettext


def normalise_locale(tag: str | None) -> str | None:
    """Map a BCP 47 tag (zh-TW, zh-Hans-CN, en-GB, zh_Hant) to one of LOCALES, or None."""
    if not tag:
        return None
    tag = tag.strip().replace("_", "-")
    if tag.replace("-", "_") in LOCALES:
        return tag.replace("-", "_")
    try:
        loc = Locale.parse(tag, sep="-")
    except (ValueError, TypeError, UnknownLocaleError):
        return None
    if loc.language == "en":
        return "en"
    if loc.language == "zh":
        if loc.script == "Hant" or loc.territory in ("TW", "HK", "MO"):
            return "zh_Hant"
        return "zh_Hans"
    return None


def negotiate(accept_language: str | None, default: str = "en") -> str:
    """The best of our locales for an Accept-Language header."""
    if not accept_language:
        return default
    choices: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept_language.split(",")):
        pieces = part.strip().split(";")
        quality = 1.0
        for p in pieces[1:]:
            if p.strip().startswith("q="):
                try:
                    quality = float(p.strip()[2:])
                except ValueError:
                    quality = 0.0
        choices.append((-quality, index, pieces[0]))
    for _q, _i, tag in sorted(choices):
        if tag == "*":
            return default
        found = normalise_locale(tag)
        if found:
            return found
    return default
