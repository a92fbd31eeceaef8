"""The catalogs keep up with the code, and browsers get the language they ask for.

Strings are extracted from the sources at test time with the same method map as `scripts/i18n-update`
(babel.cfg), so a string added anywhere without a translation fails here, naming the string and where it is.
See docs/i18n.md.
"""

from __future__ import annotations

import re
import string
from collections import defaultdict
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from socius.core import i18n

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ROOT / "src" / "socius"  # babel.cfg's patterns are relative to this directory
LOCALE_DIR = i18n.LOCALE_DIR
CHINESE = ("zh_Hant", "zh_Hans")
NPLURALS = {"zh_Hant": 1, "zh_Hans": 1, "en": 2}

# Whole messages a Chinese catalog may leave exactly as they are (names and technical terms). Keep this tiny:
# anything longer than one of these words has something around it to translate.
SAME_IN_CHINESE = {"Socius", "API", "JSON", "Markdown"}

ASCII_LETTER = re.compile(r"[A-Za-z]")
HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# `{name}` for str.format; `%(name)d` for ngettext and Jinja's newstyle gettext.
PLACEHOLDER = re.compile(r"\{[^{}]*\}|%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[a-zA-Z]")

MsgId = str | tuple[str, ...]


def _show(msgid: MsgId) -> str:
    return " / ".join(f'"{m}"' for m in msgid) if isinstance(msgid, tuple) else f'"{msgid}"'


def _forms(value: str | tuple[str, ...] | None) -> tuple[str, ...]:
    if isinstance(value, tuple):
        return tuple(v or "" for v in value)
    return (value or "",)


def _fail_if(problems: list[str], headline: str) -> None:
    if problems:
        pytest.fail(f"{headline} ({len(problems)}):\n  " + "\n  ".join(problems), pytrace=False)


@pytest.fixture(scope="module")
def extracted() -> dict[MsgId, list[str]]:
    """Every msgid in the sources, with where it is used (file:line)."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f, "babel.cfg")
    found: dict[MsgId, list[str]] = defaultdict(list)
    # Keywords come from babel.cfg alone, so the test cannot find more (or less) than the update script.
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(SOURCES), method_map, options_map, keywords={}
    ):
        found[message].append(f"src/socius/{filename}:{lineno}")
    files = {where.split(":")[0] for places in found.values() for where in places}
    assert any(f.endswith(".py") for f in files), "no strings extracted from Python files: check babel.cfg"
    assert any(f.endswith(".html") for f in files), "no strings extracted from templates: check babel.cfg"
    return dict(found)


@pytest.fixture(scope="module")
def catalogs() -> dict[str, Catalog]:
    out = {}
    for locale in i18n.LOCALES:
        path = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
        assert path.exists(), f"{path} is missing: run scripts/i18n-update"
        with path.open("rb") as f:
            out[locale] = read_po(f, locale=locale)
    return out


def _entry(catalog: Catalog, msgid: MsgId) -> Message | None:
    message = catalog.get(msgid)
    if message is None or isinstance(message.id, tuple) != isinstance(msgid, tuple):
        return None
    return message


def test_the_catalogs_are_the_ones_the_app_reads():
    assert set(i18n.LOCALES) == set(NPLURALS)


@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_every_string_in_the_code_is_translated(locale, extracted, catalogs):
    catalog = catalogs[locale]
    assert catalog.num_plurals == NPLURALS[locale], (
        f"{locale}: Plural-Forms says nplurals={catalog.num_plurals}, expected {NPLURALS[locale]}"
    )
    missing = []
    for msgid, places in sorted(extracted.items(), key=lambda item: item[1][0]):
        message = _entry(catalog, msgid)
        if message is None:
            why = "not in the catalog"
        elif message.fuzzy:
            why = "fuzzy"
        elif len(_forms(message.string)) != (catalog.num_plurals if isinstance(msgid, tuple) else 1) or not all(
            _forms(message.string)
        ):
            why = "empty msgstr"
        else:
            continue
        missing.append(f"{_show(msgid)}  [{why}; {', '.join(places)}]")
    _fail_if(
        missing,
        f"{locale}: msgids without a translation — run scripts/i18n-update, then translate them in "
        f"src/socius/locale/{locale}/LC_MESSAGES/messages.po",
    )


@pytest.mark.parametrize("locale", CHINESE)
def test_chinese_catalogs_do_not_keep_english(locale, extracted, catalogs):
    untranslated = []
    for msgid in extracted:
        message = _entry(catalogs[locale], msgid)
        if message is None:
            continue  # reported by test_every_string_in_the_code_is_translated
        sources = msgid if isinstance(msgid, tuple) else (msgid,)
        if not any(ASCII_LETTER.search(s) for s in sources) or sources[0] in SAME_IN_CHINESE:
            continue
        for text in _forms(message.string):
            if text and (text in sources or not HAN.search(text)):
                untranslated.append(f"{_show(msgid)} -> {text!r}")
    _fail_if(untranslated, f"{locale}: msgstrs still in English")


@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_translations_keep_the_placeholders(locale, extracted, catalogs):
    wrong = []
    for msgid, places in extracted.items():
        message = _entry(catalogs[locale], msgid)
        if message is None:
            continue
        sources = msgid if isinstance(msgid, tuple) else (msgid,)
        in_template = any(where.split(":")[0].endswith(".html") for where in places)
        for index, text in enumerate(_forms(message.string)):
            if not text:
                continue
            # English forms match singular and plural; Chinese has one form for every n, like the plural.
            source = sources[min(index, len(sources) - 1)] if NPLURALS[locale] > 1 else sources[-1]
            expected, got = set(PLACEHOLDER.findall(source)), set(PLACEHOLDER.findall(text))
            if got != expected:
                wrong.append(f"{_show(msgid)} -> {text!r}: placeholders {sorted(got)}, expected {sorted(expected)}")
                continue
            # A stray brace breaks str.format (every error message is formatted); in templates a stray % breaks
            # Jinja's newstyle gettext, which %-formats every string.
            try:
                list(string.Formatter().parse(text))
            except ValueError as error:
                wrong.append(f"{_show(msgid)} -> {text!r}: {error} (write a literal brace as {{{{ or }}}})")
                continue
            rest = PLACEHOLDER.sub("", text).replace("%%", "")
            if in_template and "%" in rest and "%" not in PLACEHOLDER.sub("", source).replace("%%", ""):
                wrong.append(f"{_show(msgid)} -> {text!r}: a literal % must be written %%")
    _fail_if(wrong, f"{locale}: translations whose placeholders differ from the msgid")


@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_the_app_reads_every_translation(locale, extracted, catalogs):
    """What `socius.core.i18n` serves at runtime is what the .po file says."""
    token = i18n.set_locale(locale)
    try:
        for msgid in extracted:
            message = _entry(catalogs[locale], msgid)
            if message is None or message.fuzzy or not all(_forms(message.string)):
                continue
            if isinstance(msgid, tuple):
                forms = _forms(message.string)
                assert i18n.ngettext(msgid[0], msgid[1], 1) == forms[0]
                assert i18n.ngettext(msgid[0], msgid[1], 5) == forms[-1]
            else:
                assert i18n.gettext(msgid) == message.string
    finally:
        i18n._current.reset(token)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        # Taiwan, Hong Kong, Macau: Traditional.
        ("zh-TW", "zh_Hant"),
        ("zh-HK", "zh_Hant"),
        ("zh-MO", "zh_Hant"),
        ("zh-Hant", "zh_Hant"),
        ("zh-Hant-TW", "zh_Hant"),
        ("ZH-tw", "zh_Hant"),
        ("zh_TW", "zh_Hant"),
        ("zh-TW,zh;q=0.9,en-US;q=0.8,en;q=0.7", "zh_Hant"),  # Chrome in Taiwan
        ("zh-TW,zh-Hant;q=0.9", "zh_Hant"),  # Safari in Taiwan
        # Mainland China, Singapore, and plain "zh": Simplified.
        ("zh-CN", "zh_Hans"),
        ("zh", "zh_Hans"),
        ("zh-SG", "zh_Hans"),
        ("zh-Hans", "zh_Hans"),
        ("zh-Hans-CN", "zh_Hans"),
        ("zh-CN,zh;q=0.9", "zh_Hans"),  # Chrome in mainland China
        # English.
        ("en-US", "en"),
        ("en-GB", "en"),
        ("en", "en"),
        # q-values: the highest acceptable language wins; equal q keeps the header's order.
        ("en;q=0.5, zh-TW;q=0.9", "zh_Hant"),
        ("zh-CN;q=0.8, en", "en"),
        ("fr-FR, zh-TW;q=0.8, en;q=0.7", "zh_Hant"),
        ("de, fr;q=0.9, zh-CN;q=0.2", "zh_Hans"),
        ("zh-TW, zh-CN", "zh_Hant"),
        ("zh-CN, zh-TW", "zh_Hans"),
        ("zh-TW ; q=0.9 , en ; q=0.95", "en"),
        ("zh-CN;q=0, en;q=0.1", "en"),
        ("zh-TW;q=abc, en;q=0.1", "en"),
        # Nothing we have, or nothing usable: the default.
        (None, "default"),
        ("", "default"),
        ("*", "default"),
        ("fr, de", "default"),
        ("ja-JP, ko;q=0.9", "default"),
        ("!!!", "default"),
        (";;;,,,", "default"),
        ("-", "default"),
        ("q=1", "default"),
        ("xx-YY", "default"),  # well-formed but unknown to CLDR
        ("i-klingon, en;q=0.5", "en"),
        ("a" * 300, "default"),
        # An explicit script subtag should decide, whatever the region (iOS sends zh-Hans-HK in Hong Kong).
        ("zh-Hans-HK", "zh_Hans"),
        ("zh-Hans-TW;q=0.9, en;q=0.1", "zh_Hans"),
        ("zh-Hant-CN", "zh_Hant"),
    ],
)
@pytest.mark.parametrize("default", ["en", "zh_Hant"])
def test_negotiate_maps_accept_language_to_our_locales(header, expected, default):
    assert i18n.negotiate(header, default=default) == (default if expected == "default" else expected)


def test_q_zero_means_not_acceptable():
    assert i18n.negotiate("zh-TW;q=0, en;q=0.5", default="zh_Hans") == "en"
    assert i18n.negotiate("zh-TW;Q=0.1, en;Q=0.9") == "en"
