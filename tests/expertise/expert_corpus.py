"""A generated organisation with planted experts, for the expert-finding evaluation. Written for these tests.

Per skill there are planted experts of four sorts, each known through one kind of evidence only:
- `tagged`: several colleagues tagged them (some in Traditional, some in Simplified characters);
- `self`: they tagged themselves in Traditional characters and one or two colleagues agreed in Simplified ones;
- `writer`: no tags at all, but they wrote several posts on the skill;
- `english`: colleagues tagged them with the English name, which an administrator made a synonym (half the skills).
Around them, noise: people who tagged themselves with the skill once, people who mentioned it once in a post,
people strongly tagged with *other* skills. The expected answer to a query is the skill's planted experts.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

# (zh-Hant, English); zh-Hans comes from folding, and the queries use both.
SKILLS: list[tuple[str, str]] = [
    ("預拌混凝土", "ready-mix concrete"),
    ("機器學習", "machine learning"),
    ("資訊安全", "information security"),
    ("供應鏈管理", "supply chain management"),
    ("軟體測試", "software testing"),
    ("財務分析", "financial analysis"),
    ("客戶服務", "customer service"),
    ("專案管理", "project management"),
    ("雲端運算", "cloud computing"),
    ("人才招募", "talent recruiting"),
    ("品質管理", "quality management"),
    ("物流規劃", "logistics planning"),
    ("社群經營", "community management"),
    ("專利申請", "patent filing"),
]
# Simplified (mainland) spellings, as a mainland colleague types them.
SIMPLIFIED = {
    "預拌混凝土": "预拌混凝土", "機器學習": "机器学习", "資訊安全": "信息安全", "供應鏈管理": "供应链管理",
    "軟體測試": "软件测试", "財務分析": "财务分析", "客戶服務": "客户服务", "專案管理": "项目管理",
    "雲端運算": "云端运算", "人才招募": "人才招募", "品質管理": "品质管理", "物流規劃": "物流规划",
    "社群經營": "社群经营", "專利申請": "专利申请",
}
# Sentences a post on a skill is made of ({s}: the skill as the writer spells it).
POST_TEMPLATES = [
    "分享我們在{s}方面的經驗：先釐清需求，再小規模試行，最後推廣到各廠區。",
    "{s}的常見問題整理，歡迎同仁補充。",
    "关于{s}的培训材料已上传，欢迎大家阅读并提出意见。",
    "本季{s}專案的成果報告與下一步計畫。",
    "Notes from our {e} workshop: what worked, what did not, and what we will try next quarter.",
]
FILLER = ["員工餐廳", "年度旅遊", "停車位", "會議室預約", "office move", "holiday schedule"]


@dataclass
class Planted:
    skill: str
    english: str
    experts: dict[str, int] = field(default_factory=dict)  # sort → person index
    noise: list[int] = field(default_factory=list)


@dataclass
class Organisation:
    size: int
    # (tagger index, person index, label)
    tags: list[tuple[int, int, str]] = field(default_factory=list)
    # (author index, title, body)
    posts: list[tuple[int, str, str]] = field(default_factory=list)
    synonyms: list[tuple[str, str]] = field(default_factory=list)  # (tag, synonym)
    planted: list[Planted] = field(default_factory=list)


def build(seed: int = 7, size: int = 160) -> Organisation:
    rng = random.Random(seed)
    org = Organisation(size=size)
    free = list(range(size))
    rng.shuffle(free)

    taggers: dict[tuple[int, str], set[int]] = {}

    def someone_else(person: int, skill: str) -> int:
        """A colleague who has not yet given this person this skill (in any spelling)."""
        given = taggers.setdefault((person, skill), {person})
        while True:
            n = rng.randrange(size)
            if n not in given:
                given.add(n)
                return n

    for i, (skill, english) in enumerate(SKILLS):
        simplified = SIMPLIFIED[skill]
        planted = Planted(skill, english)
        tagged, self_tagger, writer = free.pop(), free.pop(), free.pop()
        planted.experts |= {"tagged": tagged, "self": self_tagger, "writer": writer}
        for n in range(rng.randint(4, 8)):
            org.tags.append((someone_else(tagged, skill), tagged, skill if n % 2 else simplified))
        org.tags.append((self_tagger, self_tagger, skill))
        for _ in range(rng.randint(1, 2)):
            org.tags.append((someone_else(self_tagger, skill), self_tagger, simplified))
        for n in range(rng.randint(3, 5)):
            template = POST_TEMPLATES[n % len(POST_TEMPLATES)]
            spelled = simplified if n % 2 else skill
            org.posts.append((writer, f"{spelled}：第 {n + 1} 篇", template.format(s=spelled, e=english)))
        if i % 2 == 0:
            english_expert = free.pop()
            planted.experts["english"] = english_expert
            for _ in range(3):
                org.tags.append((someone_else(english_expert, skill), english_expert, english))
            org.synonyms.append((skill, english))
        # Noise: a lone self tag, a lone mention in a post about something else.
        lone_tagger, mentioner = free.pop(), free.pop()
        planted.noise += [lone_tagger, mentioner]
        org.tags.append((lone_tagger, lone_tagger, simplified))
        passing = f"{rng.choice(FILLER)}的通知，另外提到{skill}的課程時間未定。"
        org.posts.append((mentioner, rng.choice(FILLER), passing))
        org.planted.append(planted)
    # Strong experts of other skills, to make sure they do not leak into unrelated queries.
    for n in free[:20]:
        other = rng.choice(["烘焙", "攝影", "馬拉松", "Photography", "Chess"])
        for _ in range(4):
            org.tags.append((someone_else(n, other), n, other))
    return org


def queries(org: Organisation) -> list[tuple[str, str, set[int]]]:
    """(query, language, expected person indexes): each skill in zh-Hant and zh-Hans, and English where an
    administrator made the English name a synonym (so the same experts are expected)."""
    out = []
    for planted in org.planted:
        expected = set(planted.experts.values())
        out.append((planted.skill, "zh-Hant", expected))
        out.append((SIMPLIFIED[planted.skill], "zh-Hans", expected))
        if "english" in planted.experts:
            out.append((planted.english, "en", expected))
    return out
