"""Languages: zh_Hant, zh_Hans and en catalogs, read from the .po files at start.

The current language is a context variable set per request (user setting, then cookie, then Accept-Language)
so services, errors and templates all translate through the same `gettext`.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

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


@contextmanager
def using_locale(locale: str | None) -> Iterator[str]:
    """Translate in `locale` inside the block (an e-mail in its recipient's language), then switch back."""
    token = set_locale(locale or "en")
    try:
        yield _current.get()
    finally:
        _current.reset(token)


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
    """Map a BCP 47 tag (zh-TW, zh-Hans-HK, en-GB, zh_Hant) to one of LOCALES, or None.

    An explicit script wins over the region: iOS in Hong Kong sends zh-Hans-HK for Simplified.
    """
    if not tag:
        return None
    parts = [p for p in tag.strip().replace("_", "-").split("-") if p]
    if not parts or len(parts) > 6:
        return None
    language = parts[0].lower()
    if language == "en":
        return "en"
    if language != "zh":
        return None
    subtags = {p.lower() for p in parts[1:]}
    if "hant" in subtags:
        return "zh_Hant"
    if "hans" in subtags:
        return "zh_Hans"
    if subtags & {"tw", "hk", "mo"}:
        return "zh_Hant"
    return "zh_Hans"


def negotiate(accept_language: str | None, default: str = "en") -> str:
    """The best of our locales for an Accept-Language header (q=0 means "not this one")."""
    if not accept_language:
        return default
    choices: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept_language[:1000].split(",")):
        pieces = part.strip().split(";")
        quality = 1.0
        for p in pieces[1:]:
            key, _, value = p.strip().partition("=")
            if key.lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            choices.append((-quality, index, pieces[0].strip()))
    for _q, _i, tag in sorted(choices):
        if tag == "*":
            return default
        found = normalise_locale(tag)
        if found:
            return found
    return default
