"""Text normalisation shared by every module: NFKC, case, Traditional→Simplified folding, pinyin.

The search issue builds its full pipeline (segmentation, bigrams) on these same functions, so a name typed in
Traditional characters, Simplified characters, pinyin or Latin letters folds to the same keys everywhere.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache

from pypinyin import Style, lazy_pinyin, pinyin

_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Two-character surnames; the given name starts after them.
COMPOUND_SURNAMES = frozenset([
    "歐陽", "欧阳", "司馬", "司马", "上官", "諸葛", "诸葛", "東方", "东方", "皇甫", "令狐", "公孫",
    "公孙", "慕容", "尉遲", "尉迟", "長孫", "长孙", "宇文", "司徒", "夏侯", "軒轅", "轩辕",
])


@cache
def _converter():
    import opencc

    # Taiwan phrases to mainland ones (軟體→软件), so either spelling folds to one key.
    return opencc.OpenCC("tw2sp")


def has_han(text: str) -> bool:
    return bool(_HAN.search(text))


def has_control_chars(text: str) -> bool:
    return bool(_CONTROL.search(text))


def fold(text: str) -> str:
    """NFKC, lower-case, Traditional→Simplified: the form all keys and queries are compared in."""
    text = unicodedata.normalize("NFKC", text).lower().strip()
    if has_han(text):
        text = _converter().convert(text)
    return text


def compact(text: str) -> str:
    """Fold and drop spaces and punctuation: "Zhang  Wei" and "zhang-wei" both become "zhangwei"."""
    return "".join(ch for ch in fold(text) if ch.isalnum())


def split_chinese_name(name: str) -> tuple[str, str]:
    """(surname, given name) of a Chinese name written in Han characters."""
    name = name.strip()
    if len(name) >= 3 and name[:2] in COMPOUND_SURNAMES:
        return name[:2], name[2:]
    return name[:1], name[1:]


def name_pinyin_variants(name: str, most: int = 4) -> list[list[str]]:
    """Pinyin syllables of a Han name; the surname's other readings too (曾 zeng/ceng, 单 shan/dan)."""
    name = "".join(ch for ch in name if has_han(ch))
    if not name:
        return []
    surname, given = split_chinese_name(name)
    given_syllables = list(syllables(given))
    return [[*reading, *given_syllables] for reading in _surname_readings(surname)[:most]]


# Names repeat (a few hundred surnames, a few thousand given names): a directory sync of 100,000 people asks for
# the same readings again and again.
@lru_cache(maxsize=65536)
def syllables(text: str) -> tuple[str, ...]:
    """Pinyin without tones, one syllable a Han character (other characters pass through)."""
    return tuple(lazy_pinyin(text, style=Style.NORMAL))


@lru_cache(maxsize=4096)
def _surname_readings(surname: str) -> tuple[tuple[str, ...], ...]:
    per_char = pinyin(surname, style=Style.NORMAL, heteronym=True)
    combos: list[tuple[str, ...]] = [()]
    for options in per_char:
        combos = [(*c, o) for c in combos for o in options[:3]]
    plain = syllables(surname)
    return (plain, *(c for c in combos if c != plain))


def sort_key_for(display_name: str, name_latin: str | None, name_native: str | None) -> str:
    """How the directory orders people: Latin name, else pinyin of the native name, else the display name."""
    if name_latin:
        return compact(name_latin)[:400]
    source = name_native or display_name
    if has_han(source):
        return "".join(syllables(source)).lower()[:400]
    return compact(display_name)[:400]
