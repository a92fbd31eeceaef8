"""Text normalisation shared by every module: NFKC, case, Traditional→Simplified folding, pinyin, and the
search pipeline (segmentation, bigrams, stemming) built on the same folding, so a name or a word typed in
Traditional characters, Simplified characters, pinyin or Latin letters folds to the same terms everywhere.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
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


def fold_many(texts: list[str]) -> list[str]:
    """`fold` of each text, in one NFKC and one OpenCC call for them all (as `analyse_many` does for texts)."""
    joined = unicodedata.normalize("NFKC", _TEXT_BREAK.join(t.replace(_TEXT_BREAK, " ") for t in texts)).lower()
    if has_han(joined):
        joined = _converter().convert(joined)
    return [part.strip() for part in joined.split(_TEXT_BREAK)] if texts else []


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


# --- the search pipeline ---------------------------------------------------------------------------------------
# One analysis for documents and queries, so both sides always produce the same terms:
#   NFKC → lower-case → Taiwan→mainland folding with phrases (tw2sp) → runs of one script →
#   Han: rjieba words (its dictionary is Simplified, hence folding first) + overlapping character bigrams;
#   kana and hangul: the run as a word + bigrams; Latin and other letters: words, English-stemmed; digits as they are.

_RUN = re.compile(
    r"(?P<han>[\u3400-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]+)"
    r"|(?P<cjk>[\u3040-\u30ff\u31f0-\u31ff\uac00-\ud7af\u1100-\u11ff]+)"  # kana, hangul: no dictionary, bigrams
    r"|(?P<word>[^\W_\u3040-\u30ff\u31f0-\u31ff\u3400-\u9fff\uf900-\ufaff\uac00-\ud7af\u1100-\u11ff"
    r"\U00020000-\U0002ffff]+)"
)
# Marks the break between two runs in the bigram field, so a phrase cannot match across a gap.
RUN_BREAK = "_"


@cache
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


@cache
def _numpy():
    import numpy

    return numpy


@cache
def _jieba():
    import rjieba

    return rjieba


def normalise(text: str) -> str:
    """NFKC, lower-case, control characters out, Traditional→Simplified with Taiwan phrases (軟體→软件)."""
    # NFKC maps full-width ASCII (what Chinese input methods type: "，", "ＡＢＣ") and the ideographic space.
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    text = _CONTROL.sub(" ", text.lower())
    if has_han(text):
        text = _converter().convert(text)
    return text


@cache
def _to_taiwan_characters():
    import opencc

    return opencc.OpenCC("s2tw")


def normalise_term(text: str) -> str:
    """`normalise` for short terms (tags): Simplified characters are first written as Taiwan's Traditional ones,
    so a Taiwan term typed in Simplified characters folds like the original (韧体 → 韌體 → 固件, 专案 → 專案 →
    项目). Too slow for running text, where phrases typed that way are rare."""
    if has_han(text):
        text = _to_taiwan_characters().convert(text)
    return normalise(text)


@dataclass(frozen=True)
class Analysed:
    """The terms of a text: `words` (dictionary words and stemmed Latin words, in order) and `bigrams`
    (overlapping pairs of Han, kana and hangul characters, runs separated by RUN_BREAK). `latin` holds the
    Latin words as written (folded, unstemmed), for spelling suggestions."""

    words: list[str]
    bigrams: list[str]
    latin: list[str]


@dataclass(frozen=True)
class Terms:
    """`Analysed` as the index takes it: each list joined by spaces (no term holds a space). Documents are
    analysed to these strings directly, each run's words and pairs joined in one call over a whole batch:
    building a list of a few hundred short strings per document and joining it again cost a third of the
    analysis (docs/performance.md)."""

    words: str
    bigrams: str
    latin: str


_STEMS: dict[str, str] = {}


def stem(word: str) -> str:
    """English stem of a Latin word (ideas → idea); other words as they are. Cached: vocabularies repeat."""
    stemmed = _STEMS.get(word)
    if stemmed is None:
        stemmed = _stemmer().stemWord(word) if word.isalpha() and word.isascii() else word
        if len(_STEMS) < 200_000:
            _STEMS[word] = stemmed
    return stemmed


# Between texts analysed together: a private-use character, which no step folds, segments or joins across.
_TEXT_BREAK = "\ue000"


def analyse(text: str, *, normalised: bool = False) -> Analysed:
    """The terms a document is indexed by, or a query is searched with."""
    terms = _terms_normalised([text if normalised else normalise(text)])[0]
    return Analysed(terms.words.split(), terms.bigrams.split(), terms.latin.split())


def analyse_many(texts: list[str]) -> list[Terms]:
    """The terms of each text as the index takes them, done together: one OpenCC and one segmenter call for them
    all (each call costs more than converting or cutting a few hundred characters; measured 3× faster on
    documents of ~350 characters)."""
    joined = _TEXT_BREAK.join(t.replace(_TEXT_BREAK, " ") for t in texts)
    return _terms_normalised(normalise(joined).split(_TEXT_BREAK))


def _terms_normalised(texts: list[str]) -> list[Terms]:
    # findall gives (han, cjk, word) per run, one of them non-empty: cheaper than match objects (hot path).
    pieces = [_RUN.findall(t) for t in texts]
    han_runs = [han for runs_ in pieces for han, _cjk, _word in runs_ if han]
    # Each run's words (Han) and pairs (Han, kana, hangul) as one string, from one call over all the texts' runs.
    han_words = iter(_cut_runs(han_runs))
    pairs = iter(_pair_runs([han or cjk for runs_ in pieces for han, cjk, _word in runs_ if han or cjk]))
    stems = _STEMS
    out = []
    for runs_ in pieces:
        words: list[str] = []
        bigrams: list[str] = []
        latin: list[str] = []
        for han, cjk, word in runs_:
            if word:
                latin.append(word)
                words.append(stems.get(word) or stem(word))
            else:
                words.append(next(han_words) if han else cjk)
                bigrams.append(next(pairs))
        out.append(Terms(" ".join(words), f" {RUN_BREAK} ".join(bigrams), " ".join(latin)))
    return out


def _cut_runs(han_runs: list[str]) -> list[str]:
    """The dictionary words of each Han run joined by spaces, from one segmenter call for all of them (which
    gives the "\n" between runs as a token of its own)."""
    if not han_runs:
        return []
    return " ".join(_jieba().cut("\n".join(han_runs))).split(" \n ")


def _pair_runs(runs_: list[str]) -> list[str]:
    """The overlapping character pairs of each run joined by spaces (a run of one character: itself).

    Built in NumPy over the code points of all the runs joined by "\n", without a string per pair (8× faster,
    measured): row i of a table holds what character i starts — its pair with the next character, or itself when
    it is a run alone or the "\n" between runs — and a space; the last character of a longer run starts nothing,
    and its row of zeros is dropped."""
    if not runs_:
        return []
    np = _numpy()
    chars = np.frombuffer("\n".join(runs_).encode("utf-32-le"), dtype=np.uint32)
    breaks = chars == ord("\n")
    ends = np.append(breaks[1:], True)  # the last character of its run
    starts = np.insert(breaks[:-1], 0, True)
    pair = ~breaks & ~ends
    emits = breaks | pair | (starts & ends)
    table = np.zeros((len(chars), 3), dtype=np.uint32)
    table[:, 0] = np.where(emits, chars, 0)
    table[:-1, 1] = np.where(pair[:-1], chars[1:], 0)
    table[:, 2] = np.where(emits, ord(" "), 0)
    return table[table != 0].tobytes().decode("utf-32-le").rstrip(" ").split(" \n ")


def runs(text: str) -> list[tuple[str, str]]:
    """(kind, run) pieces of normalised text: kind is "han", "cjk" or "word"."""
    return [(m.lastgroup or "word", m.group()) for m in _RUN.finditer(text)]
