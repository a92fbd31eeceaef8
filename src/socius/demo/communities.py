"""The demo company's communities: one of each kind, a restricted one with a partner guest and a subcommunity,
an archived one, and bilingual content in every app — written through the same services people use, so every
notification, activity and search document exists as it would in real use."""

from __future__ import annotations

import hashlib
import random
import tempfile
from dataclasses import dataclass
from pathlib import Path

from socius.communities import service as communities
from socius.config import Settings
from socius.content import service as content
from socius.core.auth import Principal
from socius.files import service as files
from socius.files.upload import Received
from socius.people.models import Role
from socius.wiki import service as wiki


@dataclass
class Cast:
    """The people the demo content is written by (drafts already created, with ids)."""

    employee: object  # 陳美玲, Taipei cloud platform
    admin: object
    guest: object     # 曾子健, the partner guest, hosted by 陳美玲
    engineers: list
    operations: list
    innovators: list


def _principal(draft) -> Principal:
    return Principal(person_id=draft.id, role=Role(draft.fields.get("role") or Role.MEMBER),
                     display_name=draft.fields["display_name"], via="demo")


def _mention(draft) -> str:
    return f"@[{draft.fields['display_name']}]({draft.id})"


async def _add_file(session, author, community, filename: str, body: bytes, description: str,
                    settings: Settings) -> None:
    """A demo file through the same checks as an upload (the store takes the temporary file over)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=settings.data_dir, delete=False) as handle:
        handle.write(body)
    received = Received(path=Path(handle.name), filename=filename, size=len(body),
                        sha256=hashlib.sha256(body).hexdigest(), head=body[:8192])
    try:
        await files.add_file(session, _principal(author), community.id, received, settings, description=description)
    finally:
        received.discard()


async def seed_communities(session, cast: Cast, rng: random.Random,
                           settings: Settings | None = None) -> dict[str, int]:
    """Create the demo communities and their content; returns their ids by a short name. Files are added only
    when `settings` says where to store them."""
    meiling, admin, guest = cast.employee, cast.admin, cast.guest
    engineers = [d for d in cast.engineers if d is not meiling][:24]
    ops = cast.operations[:12]
    innovators = cast.innovators[:6]

    async def make(owner, values, members=()):
        community = await communities.create(session, _principal(owner), values)
        for draft in members:
            if draft is owner:
                continue
            await communities.invite(session, _principal(owner), community.id, [draft.id])
            await communities.join(session, _principal(draft), community.id)
        return community

    async def post(author, community, kind, title, body, tags=(), data=None, parent=None):
        return await content.create_item(
            session, _principal(author), kind=kind, community=community, parent=parent,
            values={"title": title, "body": body, "tags": list(tags)}, title_required=bool(title), data=data)

    async def reply(author, item, body):
        return await content.comment(session, _principal(author), item.id, body)

    # --- a public community ----------------------------------------------------------------------------------
    guild = await make(meiling, {
        "name": "雲端平台技術交流 Cloud Platform Guild", "access": "public",
        "tags": ["雲端服務的可靠性", "API 設計", "效能調校"],
        "description": "台北、上海、北京三地雲端平台團隊的交流園地：問問題、分享踩過的坑、整理最佳做法。\n\n"
                       "Where the cloud platform teams in Taipei, Shanghai and Beijing ask questions, share what "
                       "went wrong, and write down what works.",
    }, [admin, *engineers])
    question = await post(
        meiling, guild, "topic", "服務監控應該先看哪些指標？ Which service metrics should we alert on first?",
        "我們的新 API 閘道上線後，告警太多，大家開始忽略它們。想請教：**哪些指標最值得告警？**\n\n"
        "Our new API gateway pages us too often and people have started ignoring alerts. "
        "Which metrics deserve an alert, and which belong on a dashboard?",
        tags=["服務監控", "API 設計"], data={"question": True})
    first = await reply(engineers[0], question,
                        "建议从四个黄金信号开始：延迟、流量、错误率、饱和度。只对影响用户的症状告警，"
                        "原因类的指标放到仪表板上。")
    answer = await reply(engineers[1], question,
                         "Alert on symptoms users feel: p99 latency over the SLO for 5 minutes and the error "
                         "budget burn rate. Keep CPU and queue depth on dashboards. "
                         f"{_mention(meiling)} happy to pair on the burn-rate rules.")
    await reply(meiling, question, f"謝謝 {_mention(engineers[1])}！我們先改成以 SLO 消耗速度告警。")
    question.accepted_id = answer.id
    await content.set_like(session, _principal(meiling), first.id, True)
    entry = await post(
        engineers[2], guild, "entry", "我們如何把 API 延遲降低 40% · How we cut API latency by 40%",
        "## 問題 The problem\n上季 p99 延遲在尖峰時段超過 800 毫秒。\n\n"
        "## 做法 What we did\n1. 為熱門查詢加上覆蓋索引\n2. 連線池從 10 調到 30\n3. 把序列化移出請求路徑\n\n"
        "The biggest win was the covering index: one query went from 120 ms to 4 ms. #效能調校",
        tags=["效能調校", "API 設計"])
    await reply(meiling, entry, "寫得很清楚！連線池的數字是怎麼決定的？")
    await reply(engineers[2], entry, "We load-tested 10, 20, 30 and 50; beyond 30 the database became the "
                                     "bottleneck.")
    for draft in engineers[3:9]:
        await content.set_like(session, _principal(draft), entry.id, True)
    for url, title, description, tags in (
        ("https://sre.google/sre-book/monitoring-distributed-systems/", "Monitoring Distributed Systems",
         "Google SRE 書中關於四個黃金信號的章節。The chapter on the four golden signals.", ["服務監控"]),
        ("https://www.postgresql.org/docs/current/indexes-index-only-scans.html", "Index-Only Scans",
         "覆蓋索引的官方說明。PostgreSQL's own page on covering indexes.", ["效能調校"]),
        ("https://opentelemetry.io/docs/", "OpenTelemetry 文件", "分散式追蹤的標準。", ["服務監控"]),
    ):
        await post(rng.choice([meiling, *engineers[:4]]), guild, "bookmark", title, description, tags=tags,
                   data={"url": url})
    home = await wiki.create_page(session, _principal(meiling), guild.id, {
        "title": "雲端平台手冊 Cloud Platform Handbook",
        "body": "# 雲端平台手冊\n\n新同事請先讀這裡。Start here if you are new.\n\n"
                "- 值班與告警 On-call and alerts\n- API 設計指南 API design guide\n- 部署流程 Deployment\n"})
    guide = await wiki.create_page(session, _principal(engineers[3]), guild.id, {
        "title": "API 設計指南 API design guide", "parent_id": home.id,
        "body": "## 命名\n資源用複數名詞：`/orders`、`/customers`。\n\n## 版本\n網址帶主版本：`/v1/`。"})
    await wiki.edit_page(session, _principal(meiling), guide.id, {
        "body": "## 命名 Naming\n資源用複數名詞：`/orders`、`/customers`。Plural nouns for resources.\n\n"
                "## 版本 Versions\n網址帶主版本：`/v1/`。\n\n## 錯誤 Errors\n回傳欄位名稱與原因。"
                "Name the field and the reason.", "comment": "補上錯誤格式 error format"}, expected_version=1)
    await wiki.create_page(session, _principal(engineers[5]), guild.id, {
        "title": "值班與告警 On-call and alerts", "parent_id": home.id,
        "body": "每週一 10:00 交接。告警以 SLO 消耗速度為準（見論壇討論）。Handover on Mondays at 10:00."})
    if settings is not None:
        await _add_file(session, engineers[2], guild, "api-latency-2026Q3.csv",
                        b"endpoint,p50_ms,p99_ms\n/orders,38,410\n/customers,22,180\n",
                        "上季 API 延遲量測 Last quarter's API latency", settings)
    await post(engineers[3], guild, "status", "",
               f"新的 API 設計指南草稿放在 wiki 了，{_mention(meiling)} 幫忙看看？ #API設計")
    await post(engineers[4], guild, "status", "", "上海机房周六凌晨 2 点到 4 点维护，届时测试环境不可用。")

    # --- a moderated community --------------------------------------------------------------------------------
    lean = await make(ops[0], {
        "name": "精实生产改善小组 Lean Manufacturing Circle", "access": "moderated",
        "tags": ["精實生產", "生產排程", "品質稽核"],
        "description": "深圳和高雄工厂分享改善案例。加入需经组长同意。\n\n"
                       "Improvement cases from the Shenzhen and Kaohsiung plants. Joining needs the lead's "
                       "approval.",
    }, ops[1:8])
    topic = await post(ops[1], lean, "topic", "换线时间从 45 分钟降到 18 分钟 · SMED on line 3",
                       "我们在三号线做了快速换模（SMED）：把内部作业转成外部作业，准备车提前备好模具。"
                       "附上前后对比，欢迎高雄厂参考。", tags=["精實生產"])
    await reply(ops[2], topic, "高雄廠下個月也想試，可以分享作業標準書嗎？")
    await reply(ops[1], topic, "Sure — I'll upload the SOP to the files tab this week.")
    if settings is not None:
        await _add_file(session, ops[1], lean, "三号线换线作业标准书.txt",
                        "1. 准备车提前备好模具\n2. 定位销对准后锁紧\n3. 首件检验\n".encode(),
                        "SMED 作业标准书 SOP for quick changeover", settings)
    await post(ops[3], lean, "entry", "品质稽核清单 2026 版 · Quality audit checklist, 2026 edition",
               "今年稽核新增三项：静电防护、追溯条码、供应商来料抽检。详细条目见下。\n\n"
               "- 静电防护 ESD protection\n- 追溯条码 traceability labels\n- 来料抽检 incoming inspection",
               tags=["品質稽核"])
    await communities.join(session, _principal(meiling), lean.id)  # a request waiting for the lead

    # --- a restricted community with a partner guest and a subcommunity --------------------------------------
    factory = await make(innovators[0], {
        "name": "智慧工廠專案（機密）Project Smart Factory", "access": "restricted",
        "tags": ["智慧工廠", "嵌入式韌體"],
        "description": "與光譜光學合作的智慧工廠感測器專案。**僅限專案成員**，內容請勿外流。\n\n"
                       "The smart-factory sensor project with Spectra Optics. Members only.",
    }, [*innovators[1:], meiling, admin])
    await communities.invite(session, _principal(innovators[0]), factory.id, [guest.id])
    await communities.join(session, _principal(guest), factory.id)
    plan = await post(innovators[0], factory, "topic", "第一階段時程 · Phase one schedule",
                      "感測器樣品 12 月到貨，1 月在高雄產線試裝。Sensor samples arrive in December; we trial "
                      f"them on the Kaohsiung line in January. {_mention(guest)} 請確認光學模組的交期。",
                      tags=["智慧工廠"])
    await reply(guest, plan, "光學模組預計 12 月第二週出貨，樣品 20 組。")
    await reply(meiling, plan, "韌體會在樣品到貨前準備好 OTA 更新流程。")
    await wiki.create_page(session, _principal(innovators[0]), factory.id, {
        "title": "專案章程 Project charter",
        "body": "## 目標 Goal\n在高雄產線導入 200 個感測器，停機時間減少 30%。\n\n"
                "## 成員 Team\n創新辦公室、研發部、光譜光學（合作夥伴）。"})
    await communities.create(session, _principal(innovators[0]), {
        "name": "供應商評估 Supplier evaluation", "access": "restricted", "parent_id": factory.id,
        "description": "感測器供應商的報價與評分，僅限採購與專案負責人。",
    })

    # --- an archived community -------------------------------------------------------------------------------
    party = await make(cast.innovators[-1], {
        "name": "2025 尾牙籌備 Year-end Party 2025", "access": "public", "tags": ["活動與展覽"],
        "description": "2025 年尾牙的分工與進度（活動已結束，留作紀錄）。",
    }, rng.sample(engineers, 5))
    await post(cast.innovators[-1], party, "status", "", "謝謝大家！尾牙圓滿結束，照片已上傳到相簿。")
    await communities.set_archived(session, _principal(cast.innovators[-1]), party.id, True)

    # --- status updates on profiles --------------------------------------------------------------------------
    await post(meiling, None, "status", "", "這週在研究 SLO 告警，有經驗的同事歡迎交流 #服務監控")
    await post(admin, None, "status", "", "提醒：下週一起所有帳號改用單一登入。From Monday every account signs "
                                          "in with single sign-on. #單一登入")
    return {"guild": guild.id, "lean": lean.id, "factory": factory.id, "party": party.id}
