"""Searching from the browser: the header box, results as one types (htmx), highlighted Chinese in either script."""

from __future__ import annotations

import pytest
from playwright.async_api import async_playwright, expect

from socius.accounts import service as accounts
from socius.core.db import Database
from socius.people import service as people
from socius.search import indexer, registry
from socius.search.runtime import index_root
from socius.search.tantivy_backend import TantivyBackend
from tests.browser.conftest import signed_in_page
from tests.browser.test_walkthrough import ARTIFACTS

pytestmark = pytest.mark.browser


async def _seed_and_index(url: str, settings) -> None:
    database = Database(url, pool_size=1)
    async with database.transaction() as db:
        mei = await people.create_person(db, None, display_name="陳美玲", name_native="陳美玲",
                                         name_latin="Chen Mei-ling", title="軟體工程師",
                                         about_md="負責預拌混凝土工廠的排程軟體。")
        await accounts.create_account(db, mei, "meiling", "correct-horse-battery")
        await people.create_person(db, None, display_name="張偉", name_native="張偉", name_latin="Zhang Wei",
                                   title="Product Manager")
    # The live server runs no indexer: apply the outbox here, into the index the server reads.
    registry.kinds()
    backend = TantivyBackend(index_root(settings))
    await indexer.drain(database, backend)
    backend.close()
    await database.dispose()


async def test_search_as_one_types_in_both_scripts(live_server):
    await _seed_and_index(live_server.database_url, live_server.server.config.app.state.settings)
    async with async_playwright() as p:
        browser, page = await signed_in_page(p, live_server.url, "meiling")

        # The header box leads to the search page.
        await page.fill("#site-search-q", "zhang")
        await page.press("#site-search-q", "Enter")
        await expect(page.locator("#search-results .result")).to_have_count(1)
        await expect(page.locator("#search-results")).to_contain_text("張偉")

        # As one types, in Simplified, the Traditional text is found and marked as written.
        await page.locator("#search-q").fill("")
        await page.locator("#search-q").press_sequentially("软件", delay=30)
        await expect(page.locator("#search-results mark").first).to_have_text("軟體")
        await expect(page.locator("#search-results")).to_contain_text("陳美玲")
        await expect(page.locator(".tabs")).to_contain_text("People (1)")
        await page.locator("#search-q").fill("")
        await page.locator("#search-q").press_sequentially("chenm", delay=30)
        await expect(page.locator("#search-suggestions")).to_contain_text("陳美玲")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / "search.png"), full_page=True)
        await browser.close()
