"""The demo company's idea portal: a campaign open to every employee with bilingual ideas at every stage, votes and
comments; a private campaign with the partner guest invited and their idea waiting for approval; and one that has
not opened yet — written through the same services people use."""

from __future__ import annotations

import datetime as dt
import random

from socius.content import service as content
from socius.core.auth import Principal
from socius.core.db import utcnow
from socius.ideas import service as ideas
from socius.people.models import Role


def _principal(draft) -> Principal:
    return Principal(person_id=draft.id, role=Role(draft.fields.get("role") or Role.MEMBER),
                     display_name=draft.fields["display_name"], via="demo")


# (title, body, tags, stage it reached, reason for the last move)
OPEN_IDEAS = [
    ("會議室預約加上自動釋放 · Release meeting rooms nobody showed up for",
     "台北辦公室的會議室常常被預約卻沒人使用。建議：會議開始 10 分鐘後若沒有人在門口平板簽到，就自動釋放，"
     "並通知預約人。\n\nRooms in Taipei are booked but empty a third of the time. If nobody checks in on the door "
     "tablet within 10 minutes, release the room and tell the organiser.",
     ["辦公室", "會議"], "launched", "已在台北 12 樓試行一個月，空房率從 31% 降到 9%。Piloted on 12F for a month."),
    ("新人第一週的導師制度 · A buddy for every new hire's first week",
     "每位新進同仁配一位其他部門的夥伴，第一週一起吃午餐、認識工具與流程。\n\nPair every new hire with a buddy "
     "from another department for lunch and a walk through our tools in their first week.",
     ["新人訓練", "文化"], "in_development", "人資與各部門主管已同意，正在排第一批夥伴名單。"),
    ("上海与台北共享的测试设备池 · One pool of test devices for Shanghai and Taipei",
     "两地各自采购测试手机，型号重复、闲置率高。建议建立共享设备池，用预约系统远程借用。\n\n"
     "Both offices buy the same phones for testing; most sit idle. A shared, bookable pool would cut purchases.",
     ["測試", "成本"], "selected", "Selected for Q1: procurement estimates a 35% saving on test devices."),
    ("客戶回饋直接進入產品待辦清單 · Customer feedback straight into the product backlog",
     "客服系統裡標記為「功能建議」的工單，每週自動彙整並連結到產品待辦清單，讓產品經理看得到原始聲音。\n\n"
     "Tickets tagged as feature requests would be summarised weekly and linked to backlog items.",
     ["客戶", "產品"], "under_review", "交給產品與客服主管評估。"),
    ("每月一次無會議的星期三 · One meeting-free Wednesday a month",
     "每月第一個星期三不排會議，讓大家有完整的時間專心寫程式、寫文件或學習。\n\n"
     "The first Wednesday of every month without meetings: a whole day for deep work or learning.",
     ["文化", "會議"], "submitted", ""),
    ("用電子發票取代紙本報帳 · Paperless expense claims with e-invoices",
     "台灣的電子發票載具可以直接匯入報帳系統，不必再貼收據、掃描、寄紙本。\n\nTaiwan's e-invoice carrier can "
     "feed the expense system directly: no more taping receipts to paper.",
     ["財務", "流程"], "submitted", ""),
    ("辦公室全面改用感應式照明 · Motion-sensor lighting on every floor",
     "非上班時間很多樓層燈仍全開。建議全面改用感應式照明。\n\nMany floors stay lit overnight; motion sensors "
     "would switch them off.",
     ["永續", "辦公室"], "declined", "大樓管委會明年統一更換照明，屆時已包含感應功能。The building replaces all "
     "lighting next year, sensors included."),
]

OPEN_COMMENTS = {
    0: ["北京办公室也有同样的问题，希望也能试行。", "Could the tablet also show who booked the room? That alone "
        "would help."],
    1: ["我去年剛進公司時就很希望有這樣的安排！", "Happy to volunteer as a buddy from the platform team."],
    2: ["需要考虑跨境寄送设备的报关流程。"],
    4: ["Would on-call engineers be exempt? 值班的人可能還是需要開會。"],
}


async def seed_ideas(session, cast, rng: random.Random) -> dict[str, int]:
    """Create the demo campaigns and their ideas; returns the campaign ids by a short name."""
    admin, meiling, guest = _principal(cast.admin), _principal(cast.employee), _principal(cast.guest)
    people = [d for d in cast.engineers + cast.operations + cast.innovators if d is not cast.employee]
    authors = [cast.employee, *people[:6]]
    voters = people[6:40]
    now = utcnow()

    open_campaign = await ideas.create_campaign(session, admin, {
        "title": "2027 讓工作更順手 · Make work smoother in 2027",
        "brief": "任何讓日常工作更省時、更愉快的點子都歡迎：辦公室、流程、工具、文化。每個點子都會由評審小組在"
                 "兩週內回覆。\n\nAny idea that makes everyday work faster or more pleasant — offices, processes, "
                 "tools, culture. The review panel answers every idea within two weeks.",
        "audience": "employees", "tags": ["流程", "辦公室", "文化"],
        "opens_at": now - dt.timedelta(days=60), "closes_at": now + dt.timedelta(days=30),
    })
    await ideas.add_members(session, admin, open_campaign.id, [cast.employee.id], "manager")
    for n, (title, body, tags, stage, reason) in enumerate(OPEN_IDEAS):
        author = authors[n % len(authors)]
        view = await ideas.submit_idea(session, _principal(author), open_campaign.id,
                                       {"title": title, "body": body, "tags": tags})
        idea_id = view.item.id
        for voter in rng.sample(voters, rng.randint(3, 18) if stage != "declined" else 2):
            await ideas.vote(session, _principal(voter), idea_id, 1)
        for k, text in enumerate(OPEN_COMMENTS.get(n, [])):
            await content.comment(session, _principal(voters[(n + k * 7) % len(voters)]), idea_id, text)
        path = {"submitted": [], "under_review": ["under_review"], "selected": ["under_review", "selected"],
                "in_development": ["under_review", "selected", "in_development"],
                "launched": ["under_review", "selected", "in_development", "launched"],
                "declined": ["under_review", "declined"]}[stage]
        for step, target in enumerate(path):
            last = step == len(path) - 1
            await ideas.change_stage(session, meiling if author is not cast.employee else admin, idea_id, target,
                                     reason if last else "進入下一階段 Moving on")

    private = await ideas.create_campaign(session, admin, {
        "title": "合作夥伴共創：智慧倉儲 · Co-creating smart warehousing with our partner",
        "brief": "與合作夥伴一起構想下一代倉儲系統。僅限受邀成員參與，內容請勿外流。\n\n"
                 "A private space to shape the next warehouse system together with our partner. Invited members "
                 "only; please keep what you read here confidential.",
        "audience": "invited", "tags": ["倉儲", "合作夥伴"],
        "opens_at": now - dt.timedelta(days=10), "closes_at": now + dt.timedelta(days=50),
    })
    await ideas.add_members(session, admin, private.id, [cast.employee.id, cast.guest.id, *[d.id for d in people[:3]]])
    staff_idea = await ideas.submit_idea(session, meiling, private.id, {
        "title": "揀貨路線即時最佳化 · Live pick-route optimisation",
        "body": "根據即時訂單與貨架位置，為每位揀貨員重新排序路線，預估可減少 20% 行走距離。\n\n"
                "Re-order each picker's route from live orders and shelf positions: about 20% less walking.",
        "tags": ["倉儲"]})
    await ideas.vote(session, _principal(people[0]), staff_idea.item.id, 1)
    await content.comment(session, guest, staff_idea.item.id,
                          "我們的倉庫已經有貨架座標資料，可以提供測試。We can share our shelf coordinates for a test.")
    await ideas.submit_idea(session, guest, private.id, {
        "title": "用電子貨架標籤同步庫存 · Electronic shelf labels that follow the stock",
        "body": "在貨架上使用電子標籤，庫存變動時自動更新數量與位置，減少盤點誤差。\n\n"
                "Electronic shelf labels that update when stock moves, so counts stay right between stocktakes.",
        "tags": ["倉儲", "庫存"]})  # a guest's idea: waits for a manager's approval

    upcoming = await ideas.create_campaign(session, admin, {
        "title": "黑客松 2027 題目徵集 · Hackathon 2027: propose a challenge",
        "brief": "明年三月的黑客松想解決什麼問題？活動開放後請提出題目與需要的資料。\n\n"
                 "What should March's hackathon tackle? Once this opens, propose a challenge and the data it needs.",
        "audience": "employees", "tags": ["黑客松"],
        "opens_at": now + dt.timedelta(days=14), "closes_at": now + dt.timedelta(days=45),
    })
    return {"open": open_campaign.id, "private": private.id, "upcoming": upcoming.id}
