"""Names for demo and synthetic people, and how each region writes them in Latin letters.

Chinese names are kept in Traditional characters here and converted to Simplified for mainland China and
Singapore. Surnames carry their regional romanisation because it cannot be derived from Mandarin pinyin:
陳 is Chen in Taipei and Shanghai, Chan in Hong Kong, Tan in Singapore. Heteronym surnames (曾 zeng, not ceng;
單 shan, not dan) and compound ones (歐陽, 司馬) are included on purpose: search must find all of them.
"""

from __future__ import annotations

import itertools
import random
import unicodedata
from dataclasses import dataclass
from functools import cache

from pypinyin import Style, lazy_pinyin

# (surname, romanisation, weight). Weights follow the rough frequency of each surname in that region.
TAIWAN_SURNAMES: tuple[tuple[str, str, int], ...] = (
    ("陳", "Chen", 11), ("林", "Lin", 8), ("黃", "Huang", 6), ("張", "Chang", 5), ("李", "Li", 5),
    ("王", "Wang", 4), ("吳", "Wu", 4), ("劉", "Liu", 3), ("蔡", "Tsai", 3), ("楊", "Yang", 3),
    ("許", "Hsu", 2), ("鄭", "Cheng", 2), ("謝", "Hsieh", 2), ("郭", "Kuo", 2), ("洪", "Hung", 2),
    ("曾", "Tseng", 2), ("邱", "Chiu", 2), ("廖", "Liao", 2), ("賴", "Lai", 2), ("周", "Chou", 1),
    ("徐", "Hsu", 1), ("蘇", "Su", 1), ("葉", "Yeh", 1), ("莊", "Chuang", 1), ("呂", "Lu", 1),
    ("江", "Chiang", 1), ("何", "Ho", 1), ("蕭", "Hsiao", 1), ("羅", "Lo", 1), ("高", "Kao", 1),
    ("簡", "Chien", 1), ("游", "Yu", 1), ("詹", "Chan", 1), ("柯", "Ko", 1), ("單", "Shan", 1),
    ("歐陽", "Ouyang", 1), ("司馬", "Szuma", 1),
)
MAINLAND_SURNAMES: tuple[tuple[str, str, int], ...] = (
    ("王", "Wang", 7), ("李", "Li", 7), ("張", "Zhang", 7), ("劉", "Liu", 5), ("陳", "Chen", 5),
    ("楊", "Yang", 3), ("趙", "Zhao", 2), ("黃", "Huang", 2), ("周", "Zhou", 2), ("吳", "Wu", 2),
    ("徐", "Xu", 2), ("孫", "Sun", 2), ("胡", "Hu", 1), ("朱", "Zhu", 1), ("高", "Gao", 1),
    ("林", "Lin", 1), ("何", "He", 1), ("郭", "Guo", 1), ("馬", "Ma", 1), ("羅", "Luo", 1),
    ("梁", "Liang", 1), ("宋", "Song", 1), ("鄭", "Zheng", 1), ("謝", "Xie", 1), ("韓", "Han", 1),
    ("唐", "Tang", 1), ("馮", "Feng", 1), ("于", "Yu", 1), ("董", "Dong", 1), ("蕭", "Xiao", 1),
    ("程", "Cheng", 1), ("曹", "Cao", 1), ("袁", "Yuan", 1), ("鄧", "Deng", 1), ("許", "Xu", 1),
    ("沈", "Shen", 1), ("曾", "Zeng", 1), ("彭", "Peng", 1), ("呂", "Lyu", 1), ("單", "Shan", 1),
    ("歐陽", "Ouyang", 1), ("司馬", "Sima", 1), ("諸葛", "Zhuge", 1), ("上官", "Shangguan", 1),
)
HONG_KONG_SURNAMES: tuple[tuple[str, str, int], ...] = (
    ("陳", "Chan", 6), ("李", "Lee", 4), ("張", "Cheung", 3), ("黃", "Wong", 4), ("何", "Ho", 2),
    ("林", "Lam", 2), ("劉", "Lau", 2), ("吳", "Ng", 2), ("梁", "Leung", 2), ("鄭", "Cheng", 1),
    ("周", "Chow", 1), ("謝", "Tse", 1), ("麥", "Mak", 1), ("馮", "Fung", 1), ("曾", "Tsang", 1),
    ("區", "Au", 1), ("歐陽", "Au-Yeung", 1), ("羅", "Law", 1), ("郭", "Kwok", 1), ("葉", "Yip", 1),
)
SINGAPORE_SURNAMES: tuple[tuple[str, str, int], ...] = (
    ("陳", "Tan", 6), ("林", "Lim", 4), ("李", "Lee", 3), ("黃", "Ng", 2), ("王", "Ong", 2),
    ("吳", "Goh", 2), ("鄭", "Tay", 1), ("張", "Teo", 1), ("許", "Koh", 1), ("楊", "Yeo", 1),
    ("蔡", "Chua", 1), ("劉", "Lau", 1), ("郭", "Quek", 1),
)

# Given names, Traditional characters. Mixed generations and both sides of the strait.
GIVEN_NAMES: tuple[str, ...] = (
    "美玲", "志豪", "怡君", "家豪", "雅婷", "俊傑", "淑芬", "建宏", "欣怡", "宗翰", "冠宇", "佳穎", "承恩",
    "詩涵", "柏翰", "宜蓁", "彥廷", "郁婷", "冠廷", "家瑋", "雅雯", "志明", "淑惠", "俊宏", "信宏", "惠如",
    "佩君", "政宏", "哲瑋", "筱涵", "子軒", "品妍", "宇翔", "語彤", "思妤", "睿恩", "怡安", "柏宇", "嘉玲",
    "明哲", "志偉", "文彬", "國華", "秀英", "麗華", "玉珍", "春美", "建志", "宗憲", "立偉", "世傑", "昱廷",
    "晉豪", "育誠", "偉倫", "佳蓉", "婉婷", "欣妤", "靜宜", "宜君", "雅琪", "子涵", "浩然", "欣妍", "梓萱",
    "宇航", "俊熙", "思彤", "雨桐", "一諾", "晨曦", "建國", "志強", "秀蘭", "桂英", "海燕", "麗娟", "曉明",
    "曉東", "文傑", "鵬飛", "振華", "偉東", "紅梅", "春燕", "雪梅", "玉蘭", "國強", "衛東", "建軍", "嘉怡",
    "佳琪", "明軒", "博文", "天佑", "浩宇", "雨萱", "詩雨", "夢瑤", "思遠", "致遠", "曉燕", "丹丹", "婷婷",
    "靜怡", "文靜", "子豪", "嘉欣", "家樂", "詠詩", "凱琳", "俊賢", "志榮", "慧敏", "寶儀", "國榮", "偉", "傑",
    "敏", "靜", "芳", "磊", "強", "勇", "潔", "娟", "濤", "斌", "鵬", "琳", "穎", "昊", "瑤",
)

ENGLISH_GIVEN: tuple[str, ...] = (
    "James", "Michael", "David", "Daniel", "Kevin", "Kelvin", "Jason", "Eric", "Ryan", "Andrew", "Brian",
    "Steven", "Peter", "Thomas", "William", "Alex", "Vincent", "Jonathan", "Samuel", "Patrick", "Emily",
    "Sarah", "Jessica", "Jennifer", "Michelle", "Amanda", "Rachel", "Grace", "Vivian", "Winnie", "Cindy",
    "Joyce", "Irene", "Karen", "Stephanie", "Catherine", "Olivia", "Sophia", "Hannah", "Chloe", "Natalie",
    "Fiona", "Ivy", "Jasmine", "Priya", "Aisha", "Marcus", "Elena",
)
ENGLISH_SURNAMES: tuple[str, ...] = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson", "Taylor",
    "Thomas", "Moore", "Martin", "Jackson", "White", "Harris", "Clark", "Lewis", "Walker", "Hall", "Young",
    "Allen", "King", "Wright", "Scott", "Green", "Baker", "Adams", "Nelson", "Carter", "Mitchell", "Roberts",
    "Turner", "Phillips", "Campbell", "Parker", "Evans", "Edwards", "Collins", "Stewart", "Murphy", "Cook",
    "Rogers", "Morgan", "Cooper", "Peterson", "Reed", "Bailey", "Kelly", "Howard", "O'Brien", "Nguyen", "Patel",
    "Kim", "Okafor",
)
SPANISH_GIVEN: tuple[str, ...] = (
    "José Luis", "María Fernanda", "Juan Carlos", "Ana Sofía", "Luis", "Carlos", "Jorge", "Alejandro", "Diego",
    "Fernando", "Ricardo", "Javier", "Sofía", "Valeria", "Daniela", "Gabriela", "Mariana", "Lucía", "Ximena",
    "Regina", "Paola", "Andrea", "Rodrigo", "Emilio",
)
SPANISH_SURNAMES: tuple[str, ...] = (
    "García", "Martínez", "Hernández", "López", "González", "Rodríguez", "Pérez", "Sánchez", "Ramírez", "Flores",
    "Torres", "Rivera", "Gómez", "Díaz", "Cruz", "Morales", "Reyes", "Gutiérrez", "Ortiz", "Garza", "Treviño",
    "Villarreal", "Cantú", "Elizondo",
)
FRENCH_GIVEN: tuple[str, ...] = (
    "Élodie", "Camille", "Chloé", "Léa", "Manon", "Inès", "Sophie", "Claire", "Amélie", "Juliette", "Thomas",
    "Nicolas", "Julien", "Antoine", "Mathieu", "Benoît", "François", "Guillaume", "Maxime", "Théo", "Hugo",
    "Louis", "Anne-Sophie", "Jean-Baptiste",
)
FRENCH_SURNAMES: tuple[str, ...] = (
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau", "Simon",
    "Laurent", "Lefèvre", "Michel", "David", "Bertrand", "Roux", "Vincent", "Fournier", "Morel", "Girard",
    "Lambert", "Bonnet", "Mercier", "Dupont", "Rousseau",
)


@cache
def _to_simplified():
    import opencc

    return opencc.OpenCC("t2s")


@cache
def simplified(text: str) -> str:
    return _to_simplified().convert(text)


@cache
def given_pinyin(given: str) -> tuple[str, ...]:
    """Mandarin syllables of a given name (surnames come with their own spelling)."""
    return tuple(lazy_pinyin(given, style=Style.NORMAL))


def ascii_fold(text: str) -> str:
    """"Élodie Lefèvre" → "Elodie Lefevre": for e-mail addresses and user names."""
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


# --- Wade–Giles, as Taiwanese passports write it (no apostrophes, no umlauts) ---------------------------

_INITIALS = ("zh", "ch", "sh", "b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h", "j", "q", "x", "r", "z",
             "c", "s", "y", "w")
_WG_INITIAL = {"b": "p", "d": "t", "g": "k", "zh": "ch", "j": "ch", "q": "ch", "x": "hs", "r": "j", "z": "ts",
               "c": "ts"}


@cache
def wade_giles(syllable: str) -> str:
    """One pinyin syllable (tone-less, "v" for ü) in Taiwan-style Wade–Giles: zhi → chih, xiong → hsiung."""
    s = syllable.lower().replace("ü", "v")
    initial = next((i for i in _INITIALS if s.startswith(i) and len(s) > len(i)), "")
    final = s[len(initial):]
    if final == "i" and initial in ("zh", "ch", "sh", "r"):
        final = "ih"
    elif final == "i" and initial in ("z", "c", "s"):
        return "szu" if initial == "s" else "tzu"
    if initial == "y":
        final = {"e": "eh", "an": "en", "ou": "u", "ong": "ung", "ue": "ueh", "uan": "uan"}.get(final, final)
    elif final == "e" and initial in ("g", "k", "h", ""):
        final = "o"
    elif final == "er":
        final = "erh"
    else:
        for old, new in (("iong", "iung"), ("ong", "ung"), ("ian", "ien"), ("ve", "ueh"), ("ue", "ueh"),
                         ("ie", "ieh"), ("v", "u")):
            if final.endswith(old) and not (old == "ie" and final.endswith("ieh")):
                final = final[: -len(old)] + new
                break
        if final == "uo" and initial not in ("g", "k", "h", "sh"):
            final = "o"
        elif final == "ui" and initial in ("g", "k"):
            final = "uei"
    return _WG_INITIAL.get(initial, initial) + final


def taiwan_latin(surname_latin: str, given: str) -> str:
    """"Chen Mei-ling": surname first, given syllables joined by a hyphen."""
    syllables = [wade_giles(s) for s in given_pinyin(given)]
    return f"{surname_latin} {'-'.join(syllables).capitalize()}"


def mainland_latin(surname_latin: str, given: str) -> str:
    """"Zhang Xiaoming": pinyin, surname first, given name in one word."""
    return f"{surname_latin} {''.join(given_pinyin(given)).replace('v', 'ü').capitalize()}"


def singapore_latin(surname_latin: str, given: str) -> str:
    """"Tan Wei Ming": dialect surname, then each Mandarin syllable as a word."""
    return " ".join([surname_latin, *(s.replace("v", "ü").capitalize() for s in given_pinyin(given))])


@cache
def _to_mainland():
    import opencc

    return opencc.OpenCC("tw2sp")  # with phrases: 軟體 → 软件, 資料 → 数据


def mainland_text(text: str) -> str:
    """Prose written in Taiwan usage, as a mainland reader writes it."""
    return _to_mainland().convert(text)


@dataclass(frozen=True)
class Name:
    display_name: str
    name_native: str | None
    name_latin: str | None
    email_local: str  # ASCII, lower-case; callers make it unique


_TABLES = {"tw": TAIWAN_SURNAMES, "cn": MAINLAND_SURNAMES, "hk": HONG_KONG_SURNAMES, "sg": SINGAPORE_SURNAMES}
_CUM_WEIGHTS = {k: list(itertools.accumulate(w for _, _, w in v)) for k, v in _TABLES.items()}


@cache
def _local(*parts: str) -> str:
    return ".".join(
        "".join(ch for ch in ascii_fold(p).lower() if ch.isalnum()) for p in parts if p
    )


def make_name(rng: random.Random, culture: str, *, surname: str | None = None, given: str | None = None) -> Name:
    """A plausible name for someone of this culture (tw, cn, hk, sg, en, es, fr).

    `surname` and `given` (Traditional characters) pin a Chinese name; the romanisation still follows the region.
    """
    if culture in _TABLES:
        table = _TABLES[culture]
        if surname is None:
            surname, latin_surname, _ = rng.choices(table, cum_weights=_CUM_WEIGHTS[culture])[0]
        else:
            latin_surname = next((latin for han, latin, _ in table if han == surname), None) or "".join(
                lazy_pinyin(surname, style=Style.NORMAL)).capitalize()
        if given is None:
            given = rng.choice(GIVEN_NAMES)
        native = surname + given
        if culture == "tw":
            latin = taiwan_latin(latin_surname, given)
            return Name(native, native, latin, _local(latin.split(" ", 1)[1], latin_surname))
        if culture == "cn":
            native = simplified(native)
            latin = mainland_latin(latin_surname, given)
            return Name(native, native, latin, _local(latin.split(" ", 1)[1], latin_surname))
        english = rng.choice(ENGLISH_GIVEN)
        if culture == "hk":
            return Name(native, native, f"{english} {latin_surname}", _local(english, latin_surname))
        # Singaporeans usually go by the Latin form; the Chinese name is still on the profile.
        if rng.random() < 0.5:
            latin, local = f"{english} {latin_surname}", _local(english, latin_surname)
        else:
            latin, local = singapore_latin(latin_surname, given), _local("".join(given_pinyin(given)), latin_surname)
        return Name(latin, simplified(native), latin, local)
    if culture == "es":
        first = rng.choice(SPANISH_GIVEN)
        surnames = rng.sample(SPANISH_SURNAMES, 2 if rng.random() < 0.7 else 1)
        display = f"{first} {' '.join(surnames)}"
        return Name(display, None, None, _local(first.split(" ")[0], surnames[0]))
    given_pool, surname_pool = {"fr": (FRENCH_GIVEN, FRENCH_SURNAMES)}.get(
        culture, (ENGLISH_GIVEN, ENGLISH_SURNAMES))
    first, last = rng.choice(given_pool), rng.choice(surname_pool)
    return Name(f"{first} {last}", None, None, _local(first, last))
