"""The idea portal from the browser: a manager creates a campaign with a review criterion, an employee submits an
idea, the manager moves it a stage with a reason and assigns a reviewer, the reviewer scores and submits, and the
manager reads the funnel on the campaign's metrics page."""

from __future__ import annotations

import pytest
from playwright.async_api import async_playwright, expect

from socius.accounts import service as accounts
from socius.core.db import Database
from socius.people import service as people
from tests.browser.conftest import signed_in_page

pytestmark = pytest.mark.browser


async def _seed(url: str) -> int:
    """Three colleagues; returns the reviewer's person id."""
    database = Database(url, pool_size=1)
    async with database.transaction() as db:
        for username, name in (("manager", "黃經理"), ("author", "李工程師"), ("reviewer", "張評審")):
            person = await people.create_person(db, None, display_name=name, name_native=name, department="研發部")
            await accounts.create_account(db, person, username, "correct-horse-battery")
        reviewer_id = person.id
    await database.dispose()
    return reviewer_id


async def test_campaign_idea_stage_review_and_metrics(live_server):
    reviewer_id = await _seed(live_server.database_url)
    base = live_server.url
    async with async_playwright() as p:
        manager_browser, manager = await signed_in_page(p, base, "manager")
        await manager.goto(base + "/campaigns")
        await manager.get_by_role("link", name="New campaign").click()
        await manager.fill("input[name=title]", "綠色機房挑戰")
        await manager.fill("textarea[name=brief]", "如何降低機房能耗？")
        await manager.get_by_label("Criterion 1").fill("影響力")
        await manager.get_by_label("Weight 1").fill("2")
        await manager.get_by_role("button", name="Create campaign").click()
        await expect(manager.locator("h1")).to_contain_text("綠色機房挑戰")
        campaign_url = manager.url

        author_browser, author = await signed_in_page(p, base, "author")
        await author.goto(campaign_url)
        await author.fill("input[name=title]", "液冷伺服器")
        await author.fill("textarea[name=body]", "用液冷取代風冷，節省三成電力。")
        await author.get_by_role("button", name="Submit idea").click()
        await expect(author.locator("h1")).to_contain_text("液冷伺服器")
        idea_url = author.url

        await manager.goto(idea_url)
        await manager.select_option("#stage", "under_review")
        await manager.fill("#reason", "值得評估")
        await manager.get_by_role("button", name="Change stage").click()
        await expect(manager.locator("h1 .badge").first).to_have_text("Under review")
        await expect(manager.get_by_text("值得評估")).to_be_visible()
        await manager.fill("#reviewer_id", str(reviewer_id))
        await manager.get_by_role("button", name="Assign", exact=True).click()
        await expect(manager.locator(".idea-reviews table")).to_contain_text("張評審")

        reviewer_browser, reviewer = await signed_in_page(p, base, "reviewer")
        await reviewer.goto(base + "/reviews")
        await reviewer.get_by_role("link", name="液冷伺服器").click()
        await reviewer.get_by_label("影響力").select_option("4")
        await reviewer.fill("#comment", "可行，但要先試點")
        await reviewer.get_by_role("button", name="Submit review").click()
        await expect(reviewer.get_by_text("Your review is submitted.")).to_be_visible()

        await manager.goto(idea_url)
        await expect(manager.locator(".review-score")).to_contain_text("Score 4.00 of 5")
        await manager.goto(campaign_url)
        await manager.get_by_role("link", name="Metrics").click()
        funnel = manager.locator(".funnel")
        await expect(funnel.locator("tr", has_text="Under review").locator(".count")).to_have_text("1")
        await expect(funnel.locator("tr", has_text="Submitted").locator(".count")).to_have_text("0")
        await expect(funnel.locator(".bar.w-100")).to_have_count(1)
        for opened in (reviewer_browser, author_browser, manager_browser):
            await opened.close()
