"""Communities from the browser: creating a moderated community, a colleague asking to join, the owner
approving, and the new member commenting on an item."""

from __future__ import annotations

import pytest
from playwright.async_api import async_playwright, expect

from socius.accounts import service as accounts
from socius.communities.models import Community
from socius.content import service as content
from socius.core.auth import Principal
from socius.core.db import Database
from socius.people import service as people
from socius.people.models import Role
from tests.browser.conftest import signed_in_page

pytestmark = pytest.mark.browser


async def _seed_people(url: str) -> int:
    database = Database(url, pool_size=1)
    async with database.transaction() as db:
        owner = await people.create_person(db, None, display_name="周志偉", name_native="周志偉")
        await accounts.create_account(db, owner, "zhiwei", "correct-horse-battery")
        joiner = await people.create_person(db, None, display_name="吳雅婷", name_native="吳雅婷")
        await accounts.create_account(db, joiner, "yating", "correct-horse-battery")
        owner_id = owner.id
    await database.dispose()
    return owner_id


async def _seed_item(url: str, owner_id: int, community_id: int) -> int:
    database = Database(url, pool_size=1)
    async with database.transaction() as db:
        owner = Principal(person_id=owner_id, role=Role.MEMBER, via="session")
        item = await content.create_item(db, owner, kind="entry", community=await db.get(Community, community_id),
                                         values={"title": "第一季目標", "body": "請大家看看"})
        item_id = item.id
    await database.dispose()
    return item_id


async def test_moderated_community_request_approve_comment(live_server):
    owner_id = await _seed_people(live_server.database_url)
    async with async_playwright() as p:
        browser, page = await signed_in_page(p, live_server.url, "zhiwei")
        await page.goto(f"{live_server.url}/communities")
        await page.get_by_role("link", name="Create a community").click()
        await page.fill("#name", "工安委員會")
        await page.fill("#description", "每月**工安**檢討")
        await page.get_by_label("Moderated").check()
        await page.get_by_role("button", name="Create", exact=True).click()
        await expect(page.locator("h1")).to_contain_text("工安委員會")
        await expect(page.locator(".prose strong")).to_have_text("工安")
        community_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
        item_id = await _seed_item(live_server.database_url, owner_id, community_id)

        other_browser, other = await signed_in_page(p, live_server.url, "yating")
        await other.goto(f"{live_server.url}/communities?q=工安")
        await other.get_by_role("link", name="工安委員會").click()
        await other.get_by_role("button", name="Ask to join").click()
        await expect(other.locator(".membership")).to_contain_text("You asked to join")
        await other.goto(f"{live_server.url}/items/{item_id}")
        await expect(other.locator("#social textarea")).to_have_count(0)  # not a member yet

        await page.goto(f"{live_server.url}/communities/{community_id}/members")
        requests = page.locator("section[aria-labelledby=requests-title]")
        await expect(requests).to_contain_text("吳雅婷")
        await requests.get_by_role("button", name="Approve").click()
        await expect(requests).to_contain_text("No requests.")
        await expect(page.locator("section[aria-labelledby=role-member]")).to_contain_text("吳雅婷")

        await other.goto(f"{live_server.url}/items/{item_id}")
        await other.fill(f"#comment-{item_id}", "收到，下週前回覆")
        await other.get_by_role("button", name="Comment", exact=True).click()
        await expect(other.locator("#social .comments")).to_contain_text("收到，下週前回覆")
        await other.reload()
        await expect(other.locator("#social .comments")).to_contain_text("收到，下週前回覆")
        await other_browser.close()
        await browser.close()
