"""The stream from the browser: mentioning a colleague with the composer's suggestions, posting, following from
the profile (htmx), and the feed's "Show older"."""

from __future__ import annotations

import pytest
from playwright.async_api import async_playwright, expect

from socius.accounts import service as accounts
from socius.activity import service as activity
from socius.content import service as content
from socius.core.auth import Principal
from socius.core.db import Database
from socius.people import service as people
from socius.people.models import Role
from tests.browser.conftest import signed_in_page

pytestmark = pytest.mark.browser


async def _seed(url: str) -> int:
    database = Database(url, pool_size=1)
    async with database.transaction() as db:
        author = await people.create_person(db, None, display_name="黃志明", name_native="黃志明",
                                            name_latin="Huang Chih-ming")
        reader = await people.create_person(db, None, display_name="李佳穎", name_native="李佳穎")
        await accounts.create_account(db, reader, "chiaying", "correct-horse-battery")
        writer = Principal(person_id=author.id, role=Role.MEMBER)
        for n in range(23):
            await content.create_item(db, writer, kind="status", community=None,
                                      values={"body": f"進度報告 {n:02d}"}, title_required=False)
        author_id = author.id
        await activity.follow(db, Principal(person_id=reader.id, role=Role.MEMBER), "tag", "報告")
    await database.dispose()
    return author_id


async def test_mention_post_follow_and_read_older(live_server):
    author_id = await _seed(live_server.database_url)
    async with async_playwright() as p:
        browser, page = await signed_in_page(p, live_server.url, "chiaying")
        await expect(page).to_have_url(f"{live_server.url}/feed")

        # Nothing followed yet but a tag: the author's updates are not here.
        await expect(page.locator(".feed")).to_have_count(0)
        box = page.locator("#status-body")
        await box.press_sequentially("謝謝 @huang", delay=30)
        suggestion = page.locator(".mention-suggestions li", has_text="黃志明")
        await expect(suggestion).to_be_visible()
        await suggestion.click()
        await expect(box).to_have_value(f"謝謝 @[黃志明]({author_id}) ")
        await box.press_sequentially("的幫忙 #報告", delay=20)
        await page.get_by_role("button", name="Post", exact=True).click()
        entry = page.locator(".feed-entry").first
        await expect(entry).to_contain_text("謝謝 @黃志明 的幫忙")
        await expect(entry.locator(f'a[href="/people/{author_id}"]')).to_have_text("@黃志明")  # the mention's link
        # Follow the author from their profile: the panel arrives after the page, the button swaps in place.
        await page.goto(f"{live_server.url}/people/{author_id}")
        follow = page.locator(".activity-panel").get_by_role("button", name="Follow")
        await follow.click()
        await expect(page.locator(".activity-panel").get_by_role("button", name="Unfollow")).to_be_visible()
        await expect(page.locator(".activity-panel")).to_contain_text("1 follower")

        await page.goto(f"{live_server.url}/feed?kind=status")
        await expect(page.locator(".feed-entry")).to_have_count(20)
        await page.get_by_role("link", name="Show older").click()
        await expect(page.locator(".feed-entry")).to_have_count(24)  # 23 updates and mine, each once
        await expect(page.locator(".feed-entry", has_text="進度報告 00")).to_have_count(1)
        await browser.close()
