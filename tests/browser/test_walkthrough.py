"""A person signs in, edits their profile in Traditional Chinese, and finds a colleague by pinyin."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import async_playwright, expect

from socius.accounts import service as accounts
from socius.core import i18n
from socius.core.db import Database
from socius.people import service as people
from tests.browser.conftest import CHROMIUM_ARGS, chromium_path

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "test-artifacts"


def zh_hant(message: str) -> str:
    token = i18n.set_locale("zh_Hant")
    try:
        return i18n.gettext(message)
    finally:
        i18n._current.reset(token)


async def _seed(url: str) -> None:
    database = Database(url, pool_size=1)
    async with database.transaction() as db:
        boss = await people.create_person(db, None, display_name="林大同", name_native="林大同",
                                          title="總經理", department="總經理室", location="台北")
        mei = await people.create_person(db, None, display_name="陳美玲", name_native="陳美玲",
                                         name_latin="Chen Mei-ling", email="meiling@example.com",
                                         department="研發部", location="台北", manager_id=boss.id)
        await accounts.create_account(db, mei, "meiling", "correct-horse-battery")
        await people.create_person(db, None, display_name="歐陽小明", name_native="歐陽小明",
                                   department="業務部", location="高雄", title="業務經理", manager_id=boss.id)
    await database.dispose()


async def test_sign_in_edit_profile_in_zh_hant_and_find_by_pinyin(live_server):
    await _seed(live_server.database_url)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        context = await browser.new_context(locale="zh-TW", viewport={"width": 390, "height": 844})  # a phone
        page = await context.new_page()

        await page.goto(live_server.url + "/people")
        assert "/login" in page.url
        await expect(page.locator("html")).to_have_attribute("lang", "zh-Hant")
        await page.fill("#username", "meiling")
        await page.fill("#password", "correct-horse-battery")
        await page.get_by_role("button", name=zh_hant("Sign in")).click()
        await expect(page.locator("h1")).to_have_text(zh_hant("People"))

        # Edit my own profile, in Traditional Chinese.
        await page.get_by_role("link", name="陳美玲").first.click()
        await page.get_by_role("link", name=zh_hant("Edit profile")).click()
        await page.fill("#title", "首席架構師")
        await page.fill("#about_md", "負責**預拌混凝土**的數位轉型。<script>alert(1)</script>")
        await page.get_by_role("button", name=zh_hant("Save"), exact=True).click()
        await expect(page.get_by_text(zh_hant("Profile saved."))).to_be_visible()
        await expect(page.locator(".title")).to_have_text("首席架構師")
        await expect(page.locator(".markdown strong")).to_have_text("預拌混凝土")
        assert await page.locator(".markdown script").count() == 0
        await expect(page.locator(".chain")).to_contain_text("林大同")  # reporting line up to the top
        await page.screenshot(path=str(ARTIFACTS / "profile-zh-hant-phone.png"), full_page=True)

        # Find a colleague by the pinyin of their name, as one types (no Enter).
        await page.goto(live_server.url + "/people")
        await page.locator("#q").press_sequentially("ouyangxiao", delay=20)
        await expect(page.locator("#results .card")).to_have_count(1)
        await expect(page.locator("#results")).to_contain_text("歐陽小明")
        await page.locator("#q").fill("")
        await page.locator("#q").press_sequentially("oyxm", delay=20)  # initials
        await expect(page.locator("#results")).to_contain_text("歐陽小明")
        await page.screenshot(path=str(ARTIFACTS / "directory-pinyin-phone.png"), full_page=True)

        # Switch to Simplified Chinese with the language switcher; it sticks to my profile.
        await page.select_option("#lang-select", "zh_Hans")
        await expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
        await browser.close()
