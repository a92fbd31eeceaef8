"""The forum from the browser: ask a question, another member answers (the social bar, htmx), the asker accepts
the answer."""

from __future__ import annotations

import pytest
from playwright.async_api import async_playwright, expect

from socius.accounts import service as accounts
from socius.communities import service as communities
from socius.core.auth import Principal
from socius.core.db import Database
from socius.people import service as people
from socius.people.models import Role
from tests.browser.conftest import signed_in_page
from tests.browser.test_walkthrough import ARTIFACTS

pytestmark = pytest.mark.browser
PASSWORD = "correct-horse-battery"


async def _seed(url: str) -> int:
    database = Database(url, pool_size=1)
    async with database.transaction() as db:
        made = {}
        for username, name in (("asker", "王小明"), ("helper", "李大華")):
            person = await people.create_person(db, None, display_name=name, name_native=name)
            await accounts.create_account(db, person, username, PASSWORD)
            made[username] = Principal(person_id=person.id, role=Role.MEMBER, display_name=name, via="session")
        town = await communities.create(db, made["asker"], {"name": "品管社群", "access": "public"})
        await communities.join(db, made["helper"], town.id)
        community_id = town.id
    await database.dispose()
    return community_id


async def test_ask_answer_and_accept(live_server):
    community_id = await _seed(live_server.database_url)
    base = live_server.url
    async with async_playwright() as p:
        browser, page = await signed_in_page(p, base, "asker", PASSWORD)
        await page.goto(f"{base}/communities/{community_id}/forum")
        await page.get_by_role("link", name="New topic").click()
        await page.fill("#f-title", "預拌混凝土的坍落度損失怎麼辦？")
        await page.fill("#f-body", "運送 90 分鐘後坍落度掉很多。")
        await page.fill("#f-tags", "混凝土, 品管")
        await page.get_by_label("This is a question").check()
        await page.get_by_role("button", name="Publish").click()
        await expect(page.locator("h1")).to_contain_text("預拌混凝土的坍落度損失怎麼辦？")
        await expect(page.locator("h1 .badge")).to_have_text("Question")
        topic_url = page.url

        helper_browser, helper = await signed_in_page(p, base, "helper", PASSWORD)
        await helper.goto(topic_url)
        await helper.fill("textarea[name=body]", "在廠內加緩凝劑，並控制水灰比。")
        await helper.get_by_role("button", name="Reply").click()
        await expect(helper.locator("#social .comment")).to_contain_text("加緩凝劑")  # swapped in place by htmx
        await expect(helper.get_by_role("button", name="Accept this answer")).to_have_count(0)

        await page.reload()
        await page.get_by_role("button", name="Accept this answer").click()
        accepted = page.locator("#social .comment.accepted")
        await expect(accepted).to_contain_text("加緩凝劑")
        await expect(accepted.locator(".badge")).to_have_text("Accepted answer")
        await expect(page.get_by_role("button", name="Take back the acceptance")).to_be_visible()
        await page.goto(f"{base}/communities/{community_id}/forum?show=unanswered")
        await expect(page.locator(".app-list")).to_contain_text("No topics yet.")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        await page.goto(topic_url)
        await page.screenshot(path=str(ARTIFACTS / "forum-accepted.png"), full_page=True)

        await helper.goto(f"{base}/notifications")
        await expect(helper.locator(".notifications")).to_contain_text("accepted your answer")
        await helper_browser.close()
        await browser.close()
