"""From what a person typed to query clauses: phrases in quotes, -exclusions, the rest as words and Han runs.

Nothing typed is ever an error: unbalanced quotes, Lucene or SQL syntax, emoji and control characters are just
text, analysed like any other (punctuation falls away). Long input is cut, so a 10 kB paste costs no more than
a long sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from socius.core import text
from socius.search.backend import Unit

MAX_QUERY_CHARS = 500
MAX_UNITS = 24
MAX_RUN = 32  # characters of one word or Han run: longer input is not a search, and costs
# Dropped from queries (not from documents, so phrases still match) when the query has other words.
STOPWORDS = frozenset({"a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "in", "is", "it", "of", "on",
                       "or", "the", "to", "with", "not"})
_CHUNK = re.compile(r'(-?)"([^"]*)"|(-?)([^\s"]+)')


@dataclass
class ParsedQuery:
    must: list[Unit] = field(default_factory=list)
    must_not: list[Unit] = field(default_factory=list)
    # Latin words as typed (folded), for "did you mean".
    words: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.must


def units_of(chunk: str) -> list[Unit]:
    """The clauses of one unquoted chunk: each Latin word, each run of Han (or kana, hangul) characters."""
    units: list[Unit] = []
    for kind, run in text.runs(chunk):
        run = run[:MAX_RUN]
        if kind == "word":
            units.append(Unit("word", term=text.stem(run), raw=run))
        else:
            analysed = text.analyse(run, normalised=True)
            units.append(Unit("han", words=tuple(dict.fromkeys(analysed.words)),
                              bigrams=tuple(dict.fromkeys(analysed.bigrams))))
    return units


def phrase_of(chunk: str) -> Unit | None:
    analysed = text.analyse(chunk[:MAX_QUERY_CHARS // 4], normalised=True)
    if not analysed.words:
        return None
    if len(analysed.words) == 1 and not analysed.bigrams:
        word = analysed.words[0]
        return Unit("word", term=word, raw=text.runs(chunk)[0][1])
    return Unit("phrase", words=tuple(analysed.words), bigrams=tuple(analysed.bigrams))


def parse(raw: str) -> ParsedQuery:
    normal = text.normalise(raw[:MAX_QUERY_CHARS])
    if normal.count('"') % 2:
        # An unbalanced quote: the last one is a typo, not the start of a phrase.
        at = normal.rfind('"')
        normal = normal[:at] + " " + normal[at + 1:]
    parsed = ParsedQuery()
    for match in _CHUNK.finditer(normal):
        if match.group(2) is not None:
            negative, units = match.group(1) == "-", [u for u in [phrase_of(match.group(2))] if u]
        else:
            chunk = match.group(4)
            negative = match.group(3) == "-" and len(chunk) > 0
            units = units_of(chunk)
        (parsed.must_not if negative else parsed.must).extend(units)
    if any(u.type != "word" or u.raw not in STOPWORDS for u in parsed.must):
        parsed.must = [u for u in parsed.must if u.type != "word" or u.raw not in STOPWORDS]
    parsed.must = _dedupe(parsed.must)[:MAX_UNITS]
    parsed.must_not = _dedupe(parsed.must_not)[:MAX_UNITS]
    parsed.words = [u.raw for u in parsed.must if u.type == "word"]
    return parsed


def _dedupe(units: list[Unit]) -> list[Unit]:
    seen: set[Unit] = set()
    out = []
    for unit in units:
        if unit not in seen:
            seen.add(unit)
            out.append(unit)
    return out
