"""Expertise from the browser: tagging a colleague with the tag field's suggestions (htmx), endorsing, and
finding the expert."""

from __future__ import annotations

import pytest
from playwright.async_api import async_playwright, expect

from socius.accounts import service as accounts
from socius.core.db import Database
from socius.expertise import service as expertise
from socius.people import service as people
from tests.browser.conftest import signed_in_page
from tests.browser.test_walkthrough import ARTIFACTS

pytestmark = pytest.mark.browser


async def _seed(url: str) -> int:
    database = Database(url, pool_size=1)
    async with database.transaction() as db:
        lin = await people.create_person(db, None, display_name="林建宏", name_native="林建宏", location="台中")
        wang = await people.create_person(db, None, display_name="王淑芬", name_native="王淑芬")
        tagger = await accounts.create_account(db, wang, "shufen", "correct-horse-battery")
        await expertise.import_tags(db, [(lin.id, lin.id, "預拌混凝土品管"), (tagger.person_id, lin.id, "坍落度試驗")])
        lin_id = lin.id
    await database.dispose()
    return lin_id


async def test_tag_a_colleague_and_find_them_as_an_expert(live_server):
    lin_id = await _seed(live_server.database_url)
    async with async_playwright() as p:
        browser, page = await signed_in_page(p, live_server.url, "shufen")

        await page.goto(f"{live_server.url}/people/{lin_id}")
        panel = page.locator("#tags")
        await expect(panel).to_contain_text("預拌混凝土品管")
        # As one types in Simplified, the field offers the existing tag (a datalist filled by htmx).
        await page.locator("#new-tag").press_sequentially("预拌", delay=30)
        await expect(page.locator("#tag-options option")).to_have_count(1)
        assert await page.locator("#tag-options option").first.get_attribute("value") == "預拌混凝土品管"
        await page.locator("#new-tag").fill("預拌混凝土品管")
        await page.get_by_role("button", name="Add", exact=True).click()
        await expect(panel.locator(".tag-item").first.locator(".count")).to_have_text("2")
        # A bad tag is refused in place, and nothing else changes.
        await page.locator("#new-tag").fill("<b>bold</b>")
        await page.get_by_role("button", name="Add", exact=True).click()
        await expect(panel.locator(".alert")).to_contain_text("must not contain")

        await page.goto(f"{live_server.url}/experts")
        await page.fill("#experts-q", "预拌混凝土品管")
        await page.get_by_role("button", name="Find").click()
        await expect(page.locator("#expert-results")).to_contain_text("林建宏")
        await expect(page.locator("#expert-results .evidence")).to_contain_text(
            "tagged “預拌混凝土品管” by themselves and 1 colleague")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / "experts.png"), full_page=True)
        await browser.close()
