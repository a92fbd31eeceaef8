"""The wiki from the browser: write a page, edit it, and read the difference between the two revisions."""

from __future__ import annotations

import pytest
from playwright.async_api import async_playwright, expect

from socius.accounts import service as accounts
from socius.communities import service as communities
from socius.core.db import Database
from socius.people import service as people
from tests.browser.conftest import signed_in_page
from tests.browser.test_walkthrough import ARTIFACTS

pytestmark = pytest.mark.browser


async def _seed(url: str) -> int:
    database = Database(url, pool_size=1)
    async with database.transaction() as db:
        writer = await people.create_person(db, None, display_name="周志明", name_native="周志明")
        account = await accounts.create_account(db, writer, "zhiming", "correct-horse-battery")
        from socius.core.auth import Principal
        from socius.people.models import Role

        principal = Principal(person_id=account.person_id, role=Role.MEMBER, display_name="周志明", via="session")
        team = await communities.create(db, principal, {"name": "產品知識庫", "access": "restricted"})
        team_id = team.id
    await database.dispose()
    return team_id


async def test_write_edit_and_compare_a_wiki_page(live_server):
    team_id = await _seed(live_server.database_url)
    async with async_playwright() as p:
        browser, page = await signed_in_page(p, live_server.url, "zhiming")
        await page.goto(f"{live_server.url}/communities/{team_id}/wiki")
        await page.get_by_role("link", name="Write the first page").click()
        await page.fill("#title", "發版流程")
        await page.fill("#body", "1. 凍結分支\n2. 跑完測試\n")
        await page.get_by_role("button", name="Create page").click()
        await expect(page.locator("h1")).to_have_text("發版流程")
        await expect(page.locator(".wiki-tree")).to_contain_text("發版流程")

        await page.get_by_role("link", name="Edit", exact=True).click()
        await page.fill("#body", "1. 凍結分支\n2. 跑完測試\n3. 通知客服 <b>前一天</b>\n")
        await page.fill("#comment", "加上通知客服")
        await page.get_by_role("button", name="Save").click()
        await expect(page.locator(".prose")).to_contain_text("通知客服")

        await page.get_by_role("link", name="History").click()
        await expect(page.locator(".wiki-history tbody tr")).to_have_count(2)
        await expect(page.locator(".wiki-history")).to_contain_text("加上通知客服")
        await page.get_by_role("button", name="Compare").click()
        added = page.locator(".wiki-diff .added")
        await expect(added).to_have_count(1)
        await expect(added).to_have_text("+ 3. 通知客服 <b>前一天</b>")  # shown as text, never as markup
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / "wiki-diff.png"), full_page=True)
        await browser.close()
