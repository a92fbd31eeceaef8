"""Synthetic enterprise-social content for the search benchmark: mixed zh-Hant, zh-Hans and English.

Original vocabulary (written for this benchmark; the seeds' terms 社群事業, 構想, 預拌, 專業協助 are among the
words), drawn with a Zipf distribution so a few words are in most items and a long tail of made-up product,
place and project names is in few. zh-Hans text is the zh-Hant vocabulary through OpenCC tw2sp (軟體→软件), as
a mainland colleague would write it. Deterministic: item `i` is the same text in every run.
"""

from __future__ import annotations

import itertools
import random
from functools import cache


def _words(text: str) -> list[str]:
    return text.split()


# Traditional Chinese (Taiwan) words of office and community life, most frequent first.
HANT = _words("""
我們 今天 團隊 專案 會議 客戶 需求 問題 討論 分享 公司 部門 同事 計畫 目標 進度 報告 資料 系統 平台
創新 構想 社群 社群事業 專業協助 預拌 混凝土 預拌混凝土 軟體 網路 資訊 硬體 伺服器 資料庫 程式 開發 測試
上線 維護 安全 權限 帳號 流程 改善 效率 品質 成本 預算 採購 供應商 合約 法務 財務 人資 招募 訓練 課程
學習 知識 經驗 文件 範本 規範 標準 政策 公告 活動 聚餐 旅遊 北京旅遊 臺北 高雄 臺中 新竹 上海 深圳 香港
新加坡 辦公室 會議室 視訊 直播 簡報 投影片 數位轉型 雲端 人工智慧 機器學習 大數據 物聯網 行動裝置 應用程式
使用者 體驗 介面 設計 研究 訪談 問卷 回饋 建議 意見 投票 排名 想法 點子 提案 評估 審核 核准 執行 追蹤
完成 延遲 風險 挑戰 機會 市場 行銷 業務 銷售 通路 品牌 產品 服務 支援 客服 工單 故障 修復 更新 版本
發布 部署 監控 效能 備份 還原 災難 復原 演練 工廠 生產線 製造 良率 庫存 物流 倉儲 運輸 品管 檢驗 工程師
經理 主管 總監 副總 董事會 股東 營收 利潤 成長 季度 年度 策略 願景 文化 價值 多元 包容 永續 環保 節能
減碳 志工 公益 捐款 健康 運動 午餐 咖啡 下午茶 生日 慶祝 歡迎 新人 離職 退休 感謝 恭喜 辛苦 加油 請問
可以 應該 需要 已經 正在 即將 如果 因為 所以 但是 而且 或者 關於 對於 針對 透過 根據 包括 例如 以及 之後
""")

ENGLISH = _words("""
team project meeting customer request issue discussion share company department colleague plan goal progress
report data system platform innovation idea community business support software network information hardware
server database code development testing release maintenance security permission account process improvement
efficiency quality cost budget purchase supplier contract legal finance hiring training course learning
knowledge experience document template guideline standard policy announcement event lunch travel office
video stream presentation slides digital transformation cloud artificial intelligence machine learning
analytics mobile application user experience interface design research interview survey feedback suggestion
opinion vote ranking proposal review approval execution tracking complete delay risk challenge opportunity
market marketing sales channel brand product service ticket outage fix update version deploy monitoring
performance backup restore disaster recovery drill factory production line manufacturing yield inventory
logistics warehouse shipping inspection engineer manager director board revenue growth quarter annual strategy
vision culture value diversity inclusion sustainability energy volunteer charity health sport coffee welcome
thanks congratulations please could should need already currently soon because therefore however also about
regarding through according including example after before with from this that will have been our their
ready-mix concrete supply chain onboarding workshop hackathon roadmap milestone sprint backlog dashboard
""")

# Characters for made-up names (products, sites, projects): the rare tail.
NAME_CHARS = "星辰藍海峰嶺雲霞松柏竹梅蘭菊晨曦翠谷銀河金石玉泉青山綠水明月清風朝陽晚霞春夏秋冬東西南北"
SYLLABLES = _words("ka ri to mo na ve lo xi qu zen tor vex lan dor mi sa pe ru bo fi gal nor ty sen wa ke ul "
                   "om bra cle dri fen gro hal ish jor kel")
HEAD_SHARE = 0.95  # of words drawn from the head vocabulary; the rest from the tail of made-up names
TAIL = 40_000


@cache
def _tw2sp():
    import opencc

    return opencc.OpenCC("tw2sp")


@cache
def vocabularies() -> dict[str, tuple[list[str], list[float]]]:
    """(words, cumulative weights) per language: Zipf over the head, then a flat-ish tail of names."""
    rng = random.Random(2026)
    hans = [_tw2sp().convert(w) for w in HANT]
    han_tail = sorted({"".join(rng.choice(NAME_CHARS) for _ in range(rng.choice((2, 3)))) for _ in range(TAIL)})
    latin_tail = sorted({"".join(rng.choice(SYLLABLES) for _ in range(3)) for _ in range(TAIL)})
    rng.shuffle(han_tail)
    rng.shuffle(latin_tail)

    def zipf(head: list[str], tail: list[str]) -> tuple[list[str], list[float]]:
        head_w = [1.0 / (r + 3) ** 0.9 for r in range(len(head))]
        tail_w = [1.0 / (r + 10) for r in range(len(tail))]
        scale = (sum(head_w) / HEAD_SHARE * (1 - HEAD_SHARE)) / sum(tail_w)
        weights = head_w + [w * scale for w in tail_w]
        return head + tail, list(itertools.accumulate(weights))

    return {"hant": zipf(HANT, han_tail), "hans": zipf(hans, [_tw2sp().convert(w) for w in han_tail]),
            "en": zipf(ENGLISH, latin_tail)}


def tail_word(language: str, rank: int) -> str:
    """The tail word of a given rank (a rare term for queries)."""
    words, _ = vocabularies()[language]
    head = len(HANT) if language != "en" else len(ENGLISH)
    return words[head + rank]


def _sentence(rng: random.Random, language: str, n: int) -> str:
    words, cum = vocabularies()[language]
    picked = rng.choices(words, cum_weights=cum, k=n)
    if language == "en":
        return " ".join(picked).capitalize() + "."
    # Chinese: no spaces; now and then an English term inside (mixed writing is common in Taiwan offices).
    if rng.random() < 0.3:
        en_words, en_cum = vocabularies()["en"]
        picked.insert(rng.randrange(len(picked) + 1), " " + rng.choices(en_words, cum_weights=en_cum)[0] + " ")
    cut = rng.randrange(3, max(4, len(picked)))
    return "".join(picked[:cut]) + "，" + "".join(picked[cut:]) + "。"


def item(i: int) -> tuple[str, str, str, list[str]]:
    """(language, title, body, tags) of item i: 45 % zh-Hant, 25 % zh-Hans, 20 % English, 10 % mixed."""
    rng = random.Random(i * 7919 + 13)
    roll = rng.random()
    language = "hant" if roll < 0.45 else "hans" if roll < 0.70 else "en" if roll < 0.90 else "mixed"
    if language == "mixed":
        langs = ["hant", "en"]
        title = _sentence(rng, "hant", rng.randint(3, 6)).rstrip("。") + " " + _sentence(rng, "en", 2).rstrip(".")
    else:
        langs = [language]
        title = _sentence(rng, language, rng.randint(3, 8)).rstrip("。.")
    sentences = []
    for s in range(rng.randint(4, 12)):
        lang = langs[s % len(langs)]
        sentences.append(_sentence(rng, lang, rng.randint(6, 16) if lang == "en" else rng.randint(5, 12)))
    body = ("" if language != "en" and language != "mixed" else " ").join(sentences)
    words, _cum = vocabularies()["en" if language == "en" else "hant"]
    tags = sorted(set(rng.choices(words[:60], k=rng.randint(0, 3))))
    return language, title, body, tags


# What people type into a search box over content: common and rare terms, zh-Hant, zh-Hans, English, mixed,
# phrases, exclusions, and the seeds' vocabulary. Rare terms are tail names, found by rank so they exist.
def queries() -> list[tuple[str, str]]:
    """(category, query) pairs."""
    rare_hant, rare_hans, rare_en = tail_word("hant", 300), tail_word("hans", 1500), tail_word("en", 500)
    rare_en2 = tail_word("en", 2000)
    return [
        ("common zh-Hant", "團隊"), ("common zh-Hant", "專案 進度"), ("common zh-Hant", "會議"),
        ("common zh-Hant", "創新 構想"), ("common zh-Hans", "团队"), ("common zh-Hans", "项目 进度"),
        ("common zh-Hans", "软件 开发"), ("common en", "team"), ("common en", "project progress"),
        ("common en", "ideas"), ("common en", "customer feedback"),
        ("mid zh-Hant", "預拌混凝土"), ("mid zh-Hant", "社群事業"), ("mid zh-Hant", "專業協助"),
        ("mid zh-Hant", "數位轉型 雲端"), ("mid zh-Hans", "预拌混凝土"), ("mid zh-Hans", "人工智能"),
        ("mid zh-Hans", "灾难 复原 演练"), ("mid en", "disaster recovery drill"), ("mid en", "supply chain"),
        ("mid en", "hackathon roadmap"), ("partial zh", "北旅游"), ("cross-script", "軟體"),
        ("cross-script", "网络 安全"),
        ("rare zh-Hant", rare_hant), ("rare zh-Hans", rare_hans), ("rare en", rare_en),
        ("rare en", f"{rare_en2} release"), ("rare mixed", f"{rare_hant} {rare_en}"),
        ("mixed", "cloud 平台"), ("mixed", "雲端 platform"), ("mixed", "workshop 新人"),
        ("phrase zh", '"數位轉型"'), ("phrase zh", '"客户 需求"'), ("phrase en", '"machine learning"'),
        ("phrase en", '"supply chain"'), ("exclusion", "專案 -會議"), ("exclusion", "release -outage"),
        ("zero result", "qwzxplk"), ("zero result", "量子糾纏"),
    ]


# --- rows for the benchmark table (run in worker processes) -----------------------------------------------------

COMMUNITIES = 300
RESTRICTED_SHARE = 0.15
MAX_POSITION = 16383  # PostgreSQL's limit for tsvector positions
MAX_POSITIONS = 256  # and for positions per lexeme


def _lexeme(term: str) -> str:
    return "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"


def tsvector_literal(parts: list[tuple[list[str], str]]) -> str:
    """A tsvector in its input form from (terms in order, weight) parts: each part's terms at consecutive
    positions (so `<->` finds phrases of words or of Han bigrams), a gap between parts and at run breaks."""
    from socius.core.text import RUN_BREAK

    positions: dict[str, list[str]] = {}
    at = 1
    for terms, weight in parts:
        for term in terms:
            if term != RUN_BREAK:
                found = positions.setdefault(term, [])
                if len(found) < MAX_POSITIONS:
                    found.append(f"{min(at, MAX_POSITION)}{weight}")
            at += 1
        at += 2
    return " ".join(f"{_lexeme(t)}:{','.join(p)}" for t, p in positions.items())


def rows(start: int, stop: int, authors: tuple[int, int]) -> list[tuple]:
    """Rows of bench_item for ids start..stop-1, each with its PostgreSQL tsvector from the search pipeline."""
    import datetime as dt

    from socius.core.text import analyse

    epoch = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    out = []
    for i in range(start, stop):
        _language, title, body, tags = item(i)
        rng = random.Random(i)
        t, b = analyse(title), analyse(body)
        tag_terms = [w for tag in tags for w in analyse(tag).words]
        tsv = tsvector_literal([(t.words, "A"), (t.bigrams, "A"), (tag_terms, "B"), (b.words, "D"),
                                (b.bigrams, "D")])
        created = epoch + dt.timedelta(minutes=rng.randrange(1_000_000))
        updated = created + dt.timedelta(minutes=rng.randrange(10_000)) if rng.random() < 0.3 else created
        out.append((i, title, body, tags, rng.randrange(1, COMMUNITIES + 1), rng.random() < RESTRICTED_SHARE,
                    rng.randint(*authors), created, updated, tsv))
    return out
