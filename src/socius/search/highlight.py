"""Snippets with the query's terms marked, as safe HTML: every character of the text is escaped."""

from __future__ import annotations

import re
from functools import lru_cache

from markupsafe import Markup, escape

from socius.core import text
from socius.search.query import ParsedQuery

MAX_SOURCE = 5000
_WORD = re.compile(r"[^\W_]+")


@lru_cache(maxsize=65536)
def _fold_char(ch: str) -> str:
    """One character folded. Cached: folding a text character by character (when OpenCC's phrases change its
    length: one text in six in the benchmark) called OpenCC per character, 0.5 ms for 300 characters."""
    return text.normalise(ch)


def _folded_with_map(source: str) -> tuple[str, list[int]]:
    """The text folded as the index folds it, and for each folded character the index of its source character.

    Folding a whole text keeps its length almost always (軟體→软件, 網路→网络); when it does not (NFKC of
    ligatures, a few phrases), fold character by character, which keeps the map exact."""
    folded = text.normalise(source)
    if len(folded) == len(source):
        return folded, list(range(len(source)))
    chars, positions = [], []
    for i, ch in enumerate(source):
        for out in _fold_char(ch):
            chars.append(out)
            positions.append(i)
    return "".join(chars), positions


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
    if stems or prefixes:
        for match in _WORD.finditer(folded):
            word = match.group()
            if text.has_han(word):
                continue
            if text.stem(word) in stems or any(len(p) >= 2 and word.startswith(p) for p in prefixes):
                spans.append(match.span())
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def snippet(source: str, parsed: ParsedQuery, width: int = 160) -> Markup:
    """Up to `width` characters of `source` around its first match, matches in <mark>, the rest escaped."""
    source = " ".join(source[:MAX_SOURCE].split())
    if not source:
        return Markup("")
    folded, positions = _folded_with_map(source)
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
