"""Snippets with the query's terms marked, as safe HTML: every character of the text is escaped."""

from __future__ import annotations

import re
from functools import lru_cache

from markupsafe import Markup, escape

from socius.core import text
from socius.search.query import ParsedQuery

MAX_SOURCE = 5000


@lru_cache(maxsize=65536)
def _fold_char(ch: str) -> str:
    """One character folded. Cached: folding a text character by character (when OpenCC's phrases change its
    length: one text in six in the benchmark) called OpenCC per character, 0.5 ms for 300 characters."""
    return text.normalise(ch)


def _folded_with_map(source: str, folded: str) -> tuple[str, list[int]]:
    """The text folded as the index folds it, and for each folded character the index of its source character.

    Folding a whole text (`folded`) keeps its length almost always (軟體→软件, 網路→网络); when it does not (NFKC
    of ligatures, a few phrases), fold character by character, which keeps the map exact."""
    if len(folded) == len(source):
        return folded, list(range(len(source)))
    chars, positions = [], []
    for i, ch in enumerate(source):
        for out in _fold_char(ch):
            chars.append(out)
            positions.append(i)
    return "".join(chars), positions


@lru_cache(maxsize=256)
def _latin_words(stems: frozenset[str], starts: frozenset[str]) -> tuple[tuple[str, ...], re.Pattern] | None:
    beginnings = {s[:-1] if len(s) > 2 else s for s in stems} | starts
    if not beginnings:
        return None
    alternatives = "|".join(re.escape(b) for b in sorted(beginnings, key=len, reverse=True))
    return tuple(starts), re.compile(rf"(?<![^\W_])(?:{alternatives})[^\W_]*")


def _spans(folded: str, parsed: ParsedQuery) -> list[tuple[int, int]]:
    needles: set[str] = set()
    stems: set[str] = set()
    prefixes: set[str] = set()
    for unit in parsed.must:
        if unit.type == "word":
            stems.add(unit.term)
            prefixes.add(unit.raw)
        else:
            han = [w for w in unit.words if not w.isascii()]
            needles.update(w for w in han if len(w) > 1 or len(unit.bigrams) == 1)
            needles.update(b for b in unit.bigrams if b != text.RUN_BREAK)
            stems.update(text.stem(w) for w in unit.words if w.isascii())
    spans = []
    for needle in needles:
        start = folded.find(needle)
        while start >= 0:
            spans.append((start, start + len(needle)))
            start = folded.find(needle, start + 1)
    latin = _latin_words(frozenset(stems), frozenset(p for p in prefixes if len(p) >= 2))
    if latin is not None:
        # Only words that could match are looked at: those starting as a stem does (its last letter may change:
        # happy → happi) or with a prefix; a word joined to Han characters is not a Latin word.
        starts, pattern = latin
        for match in pattern.finditer(folded):
            word = match.group()
            if (word.startswith(starts) or text.stem(word) in stems) and not text.has_han(word):
                spans.append(match.span())
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def snippets(sources: list[str], parsed: ParsedQuery, width: int = 160) -> list[Markup]:
    """`snippet` of each source. Their texts are folded in one call (OpenCC's cost is mostly per call: a page's
    20 snippets took 4–8 ms folded one by one at 1,000,000 items)."""
    sources = [" ".join(source[:MAX_SOURCE].split()) for source in sources]
    folded = text.normalise("\n".join(sources)).split("\n")  # no text holds a line break any more
    if len(folded) != len(sources):
        folded = [text.normalise(source) for source in sources]
    return [_snippet(source, fold, parsed, width) for source, fold in zip(sources, folded, strict=True)]


def snippet(source: str, parsed: ParsedQuery, width: int = 160) -> Markup:
    """Up to `width` characters of `source` around its first match, matches in <mark>, the rest escaped."""
    return snippets([source], parsed, width)[0]


def _snippet(source: str, folded: str, parsed: ParsedQuery, width: int) -> Markup:
    if not source:
        return Markup("")
    folded, positions = _folded_with_map(source, folded)
    spans = [(positions[s], positions[e - 1] + 1) for s, e in _spans(folded, parsed)]
    first = spans[0][0] if spans else 0
    start = max(0, min(first - width // 4, len(source) - width))
    end = min(len(source), start + width)
    out = [Markup("…")] if start > 0 else []
    cursor = start
    for s, e in spans:
        if e <= start or s >= end:
            continue
        s, e = max(s, cursor), min(e, end)
        if s < cursor:
            continue
        out.append(escape(source[cursor:s]))
        out.append(Markup("<mark>") + escape(source[s:e]) + Markup("</mark>"))
        cursor = e
    out.append(escape(source[cursor:end]))
    if end < len(source):
        out.append(Markup("…"))
    return Markup("").join(out)
