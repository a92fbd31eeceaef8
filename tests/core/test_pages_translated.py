"""No English interface text is left on the Chinese pages (data such as names and e-mails may be anything)."""

from __future__ import annotations

import re

import pytest

from socius.core.i18n import catalog

PAGES = ["/people", "/people/{me}", "/people/{me}/edit", "/orgchart", "/settings", "/admin", "/admin/audit",
         "/admin/people/new", "/experts?q=python", "/experts/team?skills=python,sql", "/expertise/coverage",
         "/notifications", "/notifications/preferences", "/admin/tags?q=py", "/communities", "/communities?mine=1",
         "/communities/new", "/admin/moderation", "/feed", "/feed/tags/python", "/people/{me}/activity", "/following",
         "/no-such-page"]
ALLOWED = {"Socius", "API", "JSON", "Markdown", "Wiki"}
PRODUCT_NAMES = ("Active Directory",)  # names that stay as they are in every language


def english_ui_strings() -> set[str]:
    """Every English interface string (the en catalog's texts), without placeholders."""
    found = set()
    for text in catalog("en").values():
        for form in (text if isinstance(text, tuple) else (text,)):
            for piece in re.split(r"\{[^}]*\}|%\([^)]*\)\w", form):
                piece = piece.strip(" .,:;()…→*\u201c\u201d")
                if len(piece) >= 4 and re.search(r"[A-Za-z]{3}", piece) and piece not in ALLOWED:
                    found.add(piece)
    return found


def visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r'<input[^>]*type="hidden"[^>]*>', " ", html)
    # Attributes people read: placeholders, titles, labels, confirmations.
    attributes = " ".join(re.findall(r'(?:placeholder|title|aria-label|data-confirm)="([^"]*)"', html))
    text = re.sub(r"<[^>]+>", " ", html) + " " + attributes
    for name in PRODUCT_NAMES:
        text = text.replace(name, " ")
    return text


@pytest.mark.parametrize("locale", ["zh-TW", "zh-CN"])
async def test_chinese_pages_have_no_english_interface_text(client, admin, login, locale):
    await login(client, admin)
    english = english_ui_strings()
    for path in PAGES:
        response = await client.get(path.format(me=admin.id), headers={"Accept-Language": locale})
        text = visible_text(response.text)
        left = sorted(s for s in english if re.search(rf"(?<![A-Za-z]){re.escape(s)}(?![A-Za-z])", text))
        assert not left, f"{path} in {locale} still shows: {left}"
