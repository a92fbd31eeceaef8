"""The demo company's shape: offices, departments, titles, and the words its people describe themselves with.

致遠科技 Zhiyuan Technology is fictional: a Taiwanese hardware-and-cloud company with offices across Greater
China, Singapore and three non-Chinese sites. Departments and titles are written in English, the way such
companies keep them in their HR systems; names and "about me" texts are in each person's own languages.
Everything is original text for the demo.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import cache

COMPANY_ZH = "致遠科技"
COMPANY_EN = "Zhiyuan Technology"
DOMAIN = "zhiyuan.example"  # .example is reserved (RFC 2606): no real mailbox can ever receive demo mail


@dataclass(frozen=True)
class Office:
    key: str
    location: str  # as the directory shows and filters it
    name_zh: str  # Traditional; converted for mainland readers
    time_zone: str
    culture: str  # which names and languages its people have: tw, cn, hk, sg, en, es, fr
    phone: str  # '#' is a random digit
    weight: int = 1  # for synthetic seeding: how many people work here, relatively


OFFICES: dict[str, Office] = {o.key: o for o in (
    Office("taipei", "Taipei", "台北", "Asia/Taipei", "tw", "+886 2 2###-####"),
    Office("hsinchu", "Hsinchu", "新竹", "Asia/Taipei", "tw", "+886 3 5##-####"),
    Office("kaohsiung", "Kaohsiung", "高雄", "Asia/Taipei", "tw", "+886 7 3##-####"),
    Office("shanghai", "Shanghai", "上海", "Asia/Shanghai", "cn", "+86 21 6###-####"),
    Office("beijing", "Beijing", "北京", "Asia/Shanghai", "cn", "+86 10 8###-####"),
    Office("shenzhen", "Shenzhen", "深圳", "Asia/Shanghai", "cn", "+86 755 8###-####"),
    Office("hong_kong", "Hong Kong", "香港", "Asia/Hong_Kong", "hk", "+852 2###-####"),
    Office("singapore", "Singapore", "新加坡", "Asia/Singapore", "sg", "+65 6###-####"),
    Office("monterrey", "Monterrey", "蒙特雷", "America/Monterrey", "es", "+52 81 8###-####"),
    Office("paris", "Paris", "巴黎", "Europe/Paris", "fr", "+33 1 ## ## ## ##"),
    Office("san_francisco", "San Francisco", "舊金山", "America/Los_Angeles", "en", "+1 415 ###-####"),
)}

# Where the synthetic (seeded) organisation works: the demo offices and ~40 more, weighted by head count.
SEED_OFFICES: tuple[Office, ...] = (
    *(Office(o.key, o.location, o.name_zh, o.time_zone, o.culture, o.phone, w) for o, w in zip(
        OFFICES.values(), (40, 30, 14, 40, 30, 30, 12, 10, 6, 5, 6), strict=True)),
    Office("taichung", "Taichung", "台中", "Asia/Taipei", "tw", "+886 4 2###-####", 12),
    Office("tainan", "Tainan", "台南", "Asia/Taipei", "tw", "+886 6 2##-####", 8),
    Office("taoyuan", "Taoyuan", "桃園", "Asia/Taipei", "tw", "+886 3 3##-####", 10),
    Office("guangzhou", "Guangzhou", "廣州", "Asia/Shanghai", "cn", "+86 20 8###-####", 16),
    Office("hangzhou", "Hangzhou", "杭州", "Asia/Shanghai", "cn", "+86 571 8###-####", 14),
    Office("chengdu", "Chengdu", "成都", "Asia/Shanghai", "cn", "+86 28 8###-####", 12),
    Office("wuhan", "Wuhan", "武漢", "Asia/Shanghai", "cn", "+86 27 8###-####", 10),
    Office("nanjing", "Nanjing", "南京", "Asia/Shanghai", "cn", "+86 25 8###-####", 10),
    Office("suzhou", "Suzhou", "蘇州", "Asia/Shanghai", "cn", "+86 512 6###-####", 12),
    Office("xian", "Xi'an", "西安", "Asia/Shanghai", "cn", "+86 29 8###-####", 8),
    Office("chongqing", "Chongqing", "重慶", "Asia/Shanghai", "cn", "+86 23 6###-####", 8),
    Office("tianjin", "Tianjin", "天津", "Asia/Shanghai", "cn", "+86 22 2###-####", 6),
    Office("xiamen", "Xiamen", "廈門", "Asia/Shanghai", "cn", "+86 592 5###-####", 6),
    Office("qingdao", "Qingdao", "青島", "Asia/Shanghai", "cn", "+86 532 8###-####", 6),
    Office("dalian", "Dalian", "大連", "Asia/Shanghai", "cn", "+86 411 8###-####", 5),
    Office("dongguan", "Dongguan", "東莞", "Asia/Shanghai", "cn", "+86 769 2###-####", 8),
    Office("macau", "Macau", "澳門", "Asia/Macau", "hk", "+853 28##-####", 2),
    Office("kuala_lumpur", "Kuala Lumpur", "吉隆坡", "Asia/Kuala_Lumpur", "sg", "+60 3 2###-####", 4),
    Office("penang", "Penang", "檳城", "Asia/Kuala_Lumpur", "sg", "+60 4 2##-####", 4),
    Office("bangkok", "Bangkok", "曼谷", "Asia/Bangkok", "en", "+66 2 ###-####", 3),
    Office("ho_chi_minh", "Ho Chi Minh City", "胡志明市", "Asia/Ho_Chi_Minh", "en", "+84 28 3###-####", 4),
    Office("hanoi", "Hanoi", "河內", "Asia/Bangkok", "en", "+84 24 3###-####", 2),
    Office("manila", "Manila", "馬尼拉", "Asia/Manila", "en", "+63 2 8###-####", 3),
    Office("jakarta", "Jakarta", "雅加達", "Asia/Jakarta", "en", "+62 21 5###-####", 3),
    Office("tokyo", "Tokyo", "東京", "Asia/Tokyo", "en", "+81 3 ####-####", 4),
    Office("osaka", "Osaka", "大阪", "Asia/Tokyo", "en", "+81 6 ####-####", 2),
    Office("seoul", "Seoul", "首爾", "Asia/Seoul", "en", "+82 2 ###-####", 3),
    Office("sydney", "Sydney", "雪梨", "Australia/Sydney", "en", "+61 2 9###-####", 3),
    Office("bangalore", "Bangalore", "班加羅爾", "Asia/Kolkata", "en", "+91 80 4###-####", 4),
    Office("dubai", "Dubai", "杜拜", "Asia/Dubai", "en", "+971 4 ###-####", 2),
    Office("london", "London", "倫敦", "Europe/London", "en", "+44 20 7###-####", 4),
    Office("munich", "Munich", "慕尼黑", "Europe/Berlin", "en", "+49 89 ###-####", 3),
    Office("amsterdam", "Amsterdam", "阿姆斯特丹", "Europe/Amsterdam", "en", "+31 20 ###-####", 2),
    Office("lyon", "Lyon", "里昂", "Europe/Paris", "fr", "+33 4 ## ## ## ##", 2),
    Office("madrid", "Madrid", "馬德里", "Europe/Madrid", "es", "+34 91 ### ## ##", 2),
    Office("mexico_city", "Mexico City", "墨西哥城", "America/Mexico_City", "es", "+52 55 5###-####", 4),
    Office("guadalajara", "Guadalajara", "瓜達拉哈拉", "America/Mexico_City", "es", "+52 33 3###-####", 3),
    Office("sao_paulo", "São Paulo", "聖保羅", "America/Sao_Paulo", "en", "+55 11 3###-####", 2),
    Office("austin", "Austin", "奧斯汀", "America/Chicago", "en", "+1 512 ###-####", 4),
    Office("new_york", "New York", "紐約", "America/New_York", "en", "+1 212 ###-####", 3),
    Office("toronto", "Toronto", "多倫多", "America/Toronto", "en", "+1 416 ###-####", 3),
)


@dataclass(frozen=True)
class Area:
    """A director's area: its teams sit in these offices (one team per entry)."""

    name: str
    offices: tuple[str, ...]
    staff_titles: tuple[str, ...]


@dataclass(frozen=True)
class Department:
    name: str
    name_zh: str
    head_title: str
    head_office: str
    areas: tuple[Area, ...]
    team_size: tuple[int, int]
    focus: tuple[tuple[str, str], ...]  # (Traditional Chinese, English): what its people work on


ENGINEERS = ("Software Engineer", "Senior Software Engineer", "Software Engineer", "Staff Engineer")
DEPARTMENTS: tuple[Department, ...] = (
    Department("R&D", "研發部", "Chief Technology Officer", "hsinchu", (
        Area("Embedded Systems", ("hsinchu", "hsinchu", "kaohsiung"),
             ("Firmware Engineer", "Senior Firmware Engineer", "Hardware Engineer", "Test Engineer")),
        Area("Cloud Platform", ("taipei", "shanghai", "beijing"), (*ENGINEERS, "Site Reliability Engineer")),
        Area("Mobile & Web Apps", ("taipei", "shenzhen"), (*ENGINEERS, "UX Designer", "Front-end Engineer")),
        Area("Quality Engineering", ("hsinchu", "shenzhen"), ("QA Engineer", "Senior QA Engineer", "Test Engineer")),
        Area("Data & AI", ("beijing", "san_francisco"),
             ("Data Engineer", "Machine Learning Engineer", "Data Scientist", "Senior Data Scientist")),
    ), (4, 7), (
        ("嵌入式韌體", "embedded firmware"), ("雲端服務的可靠性", "cloud service reliability"),
        ("行動 App 的使用體驗", "mobile app user experience"), ("自動化測試", "test automation"),
        ("資料管線", "data pipelines"), ("機器學習模型的部署", "deploying machine-learning models"),
        ("電源管理電路", "power-management circuits"), ("API 設計", "API design"),
        ("軟體架構", "software architecture"), ("效能調校", "performance tuning"),
    )),
    Department("Sales", "業務部", "Vice President, Global Sales", "shanghai", (
        Area("Taiwan Sales", ("taipei", "kaohsiung"), ("Account Manager", "Senior Account Manager", "Sales Engineer")),
        Area("Greater China Sales", ("shanghai", "beijing", "shenzhen"),
             ("Account Manager", "Key Account Manager", "Sales Engineer", "Inside Sales Representative")),
        Area("Hong Kong & Southeast Asia Sales", ("hong_kong", "singapore"),
             ("Account Manager", "Business Development Manager", "Sales Engineer")),
        Area("Americas & Europe Sales", ("monterrey", "san_francisco", "paris"),
             ("Account Executive", "Sales Engineer", "Business Development Manager")),
    ), (3, 5), (
        ("大型企業客戶", "enterprise accounts"), ("通路夥伴", "channel partners"),
        ("報價與合約", "quotes and contracts"),
        ("新市場開發", "opening new markets"), ("技術型銷售", "technical pre-sales"),
    )),
    Department("Marketing", "行銷部", "Chief Marketing Officer", "taipei", (
        Area("Brand & Communications", ("taipei", "shanghai"), ("Communications Specialist", "Content Writer")),
        Area("Digital Marketing", ("taipei", "singapore"), ("Digital Marketing Specialist", "Marketing Analyst")),
        Area("Product Marketing", ("hsinchu", "paris"), ("Product Marketing Manager", "Marketing Specialist")),
    ), (2, 4), (
        ("品牌故事", "brand storytelling"), ("社群經營", "social media"), ("產品上市", "product launches"),
        ("活動與展覽", "events and trade shows"), ("市場調查", "market research"),
    )),
    Department("Human Resources", "人力資源部", "Chief People Officer", "taipei", (
        Area("Talent Acquisition", ("taipei", "shanghai"), ("Recruiter", "Senior Recruiter", "HR Coordinator")),
        Area("Learning & Development", ("taipei",), ("Training Specialist", "HR Business Partner")),
    ), (2, 4), (
        ("招募", "recruiting"), ("新人到職", "onboarding"), ("員工培訓", "training programmes"),
        ("績效制度", "performance reviews"), ("員工福利", "benefits"),
    )),
    Department("Finance", "財務部", "Chief Financial Officer", "taipei", (
        Area("Accounting", ("taipei", "shanghai"), ("Accountant", "Senior Accountant")),
        Area("Financial Planning & Analysis", ("taipei", "hong_kong"), ("Financial Analyst", "Treasury Analyst")),
    ), (2, 4), (
        ("預算規劃", "budget planning"), ("成本分析", "cost analysis"), ("應收帳款", "accounts receivable"),
        ("稅務", "tax"), ("財務報表", "financial reporting"),
    )),
    Department("Operations", "營運部", "Chief Operating Officer", "shenzhen", (
        Area("Manufacturing", ("shenzhen", "kaohsiung"),
             ("Production Engineer", "Process Engineer", "Production Planner", "Quality Inspector")),
        Area("Supply Chain", ("kaohsiung", "monterrey"),
             ("Buyer", "Supply Chain Analyst", "Supplier Quality Engineer")),
        Area("Logistics", ("shenzhen", "singapore"), ("Logistics Coordinator", "Warehouse Supervisor")),
    ), (3, 6), (
        ("生產排程", "production scheduling"), ("供應商管理", "supplier management"),
        ("倉儲物流", "warehousing and logistics"),
        ("精實生產", "lean manufacturing"), ("品質稽核", "quality audits"),
    )),
    Department("IT", "資訊部", "Chief Information Officer", "taipei", (
        Area("Infrastructure", ("taipei", "shanghai"), ("Systems Engineer", "Network Engineer", "Security Analyst")),
        Area("Enterprise Applications", ("taipei", "hsinchu"), ("ERP Consultant", "Application Developer")),
    ), (2, 5), (
        ("網路與資安", "networks and security"), ("單一登入", "single sign-on"), ("ERP 系統", "the ERP system"),
        ("備份與災難復原", "backup and disaster recovery"), ("員工電腦與帳號", "laptops and accounts"),
    )),
    Department("Innovation Office", "創新辦公室", "Chief Innovation Officer", "shanghai", (
        Area("Idea Programs", ("shanghai", "taipei"), ("Innovation Program Manager", "Community Manager")),
        Area("Open Innovation & Partnerships", ("paris", "san_francisco"), ("Partnership Manager", "Venture Analyst")),
    ), (2, 3), (
        ("創意徵集活動", "idea campaigns"), ("內部創業", "intrapreneurship"),
        ("設計思考工作坊", "design-thinking workshops"),
        ("與新創的合作", "partnering with start-ups"), ("衡量創新成效", "measuring innovation"),
    )),
    Department("Customer Success", "客戶成功部", "Vice President, Customer Success", "singapore", (
        Area("Customer Support", ("kaohsiung", "shenzhen", "monterrey"),
             ("Support Engineer", "Senior Support Engineer", "Support Specialist")),
        Area("Solutions & Training", ("singapore", "taipei"), ("Solutions Architect", "Customer Trainer")),
    ), (3, 5), (
        ("客戶導入", "customer onboarding"), ("技術支援", "technical support"), ("教育訓練", "customer training"),
        ("續約與滿意度", "renewals and satisfaction"),
    )),
    Department("Legal", "法務部", "General Counsel", "taipei", (
        Area("Legal & Compliance", ("taipei", "hong_kong"), ("Legal Counsel", "Compliance Officer", "Paralegal")),
    ), (1, 3), (
        ("合約審閱", "contract review"), ("智慧財產權", "intellectual property"), ("個資保護", "data protection"),
        ("法規遵循", "compliance"),
    )),
)
EXECUTIVE = Department("Executive Office", "總經理室", "Chief Executive Officer", "taipei", (), (1, 1), (
    ("公司策略", "company strategy"), ("跨部門協作", "cross-team collaboration"),
))

HOBBIES: tuple[tuple[str, str], ...] = (
    ("登山", "hiking"), ("手沖咖啡", "pour-over coffee"), ("羽毛球", "badminton"), ("攝影", "photography"),
    ("跑馬拉松", "running marathons"), ("烘焙", "baking"), ("桌遊", "board games"), ("書法", "calligraphy"),
    ("單車旅行", "bike touring"), ("爵士樂", "jazz"), ("潛水", "scuba diving"), ("園藝", "gardening"),
    ("圍棋", "the game of go"), ("科幻小說", "science fiction"), ("瑜珈", "yoga"), ("籃球", "basketball"),
    ("泡茶", "tea"), ("老電影", "old films"), ("露營", "camping"), ("學日文", "learning Japanese"),
)

# (Traditional Chinese, English) sentence pairs; {focus}, {focus2}, {office}, {dept}, {years}, {company}.
INTROS: tuple[tuple[str, str], ...] = (
    ("我在{office}的{dept}，主要負責{focus}。", "I'm in {dept_en} in {office_en}, mostly working on {focus_en}."),
    ("目前專注於{focus}，也樂意協助{focus2}相關的問題。",
     "These days I focus on {focus_en}, and I'm happy to help with anything about {focus2_en}."),
    ("加入{company}{years}年了，一路從{focus2}做到{focus}。",
     "{years} years at {company_en}: I started in {focus2_en} and now work on {focus_en}."),
    ("{office}團隊的一員，負責{focus}。有問題歡迎直接來找我！",
     "Part of the {office_en} team, looking after {focus_en}. Feel free to drop by with questions!"),
    ("在{dept}做{focus}，喜歡把複雜的事情講清楚。",
     "I work on {focus_en} in {dept_en} and like making complicated things simple."),
)
LOCAL_GREETINGS = {
    "es": "¡Hola! Puedes escribirme en español o en inglés.",
    "fr": "Bonjour ! Vous pouvez m'écrire en français ou en anglais.",
    "en": "I'm learning Chinese — 歡迎用中文跟我聊天！",
}
LINK_KINDS: tuple[tuple[str, str], ...] = (
    ("Blog", "https://blog.zhiyuan.example/{user}"),
    ("Code", "https://git.zhiyuan.example/{user}"),
    ("團隊 Wiki", "https://wiki.zhiyuan.example/teams/{team}"),
    ("Calendar", "https://calendar.zhiyuan.example/{user}"),
)

LANGUAGES = {
    "tw": ("zh-Hant", "en"), "cn": ("zh-Hans", "en"), "hk": ("zh-Hant", "yue", "en"), "sg": ("en", "zh-Hans"),
    "en": ("en",), "es": ("es", "en"), "fr": ("fr", "en"),
}
EXTRA_LANGUAGES = {"tw": "ja", "cn": "ja", "hk": "zh-Hans", "sg": "ms", "en": "es", "es": "fr", "fr": "es"}
LOCALE_OF = {"tw": "zh_Hant", "hk": "zh_Hant", "cn": "zh_Hans", "sg": "en", "en": "en", "es": "en", "fr": "en"}


@cache
def _phone_format(pattern: str) -> tuple[str, int]:
    return pattern.replace("%", "%%").replace("#", "%s"), pattern.count("#")


def phone_number(rng: random.Random, pattern: str, extension: bool = False) -> str:
    template, digits = _phone_format(pattern)
    number = template % tuple(f"{rng.randrange(10 ** digits):0{digits}d}")
    return f"{number} ext. {rng.randrange(1000, 9999)}" if extension else number


def languages_for(rng: random.Random, culture: str) -> list[str]:
    codes = list(LANGUAGES[culture])
    if rng.random() < 0.15:
        codes.append(EXTRA_LANGUAGES[culture])
    return codes
