"""The idea portal's pages: the campaign list, a campaign, an idea with its buttons, settings, similar ideas."""

from __future__ import annotations

from socius.people.models import Role
from tests.forum.conftest import browser  # noqa: F401 - signed-in page clients


async def test_a_campaign_walked_through_the_pages(db, make_person, browser, campaign, idea, index_now):  # noqa: F811
    owner = await make_person("Owner")
    employee = await make_person("Employee")
    guest = await make_person("Invited guest", role=Role.GUEST, manager_id=owner.id)
    outsider = await make_person("Outsider guest", role=Role.GUEST, manager_id=owner.id)
    as_owner, as_employee = await browser(owner), await browser(employee)
    as_guest, as_outsider = await browser(guest), await browser(outsider)

    listing = await as_owner.get("/campaigns")
    assert listing.status_code == 200 and 'href="/campaigns/new"' in listing.text
    assert 'href="/campaigns"' in listing.text  # the main navigation
    assert (await as_owner.get("/campaigns/new")).status_code == 200
    bad = await as_owner.post("/campaigns", {"title": ""})
    assert bad.status_code == 422
    made = await as_owner.post("/campaigns", {"title": "綠色機房挑戰", "brief": "如何降低能耗？",
                                              "moderate_guests": "on"})  # checked on a new form
    assert made.status_code == 303, made.text
    page_url = made.headers["location"]
    cid = int(page_url.rsplit("/", 1)[1])
    settings = await as_owner.get(f"{page_url}/settings")
    assert settings.status_code == 200
    assert (await as_employee.get(f"{page_url}/settings")).status_code == 403
    assert (await as_owner.post(f"{page_url}/members", {"person_id": str(guest.id)})).status_code == 303
    assert "External" in (await as_owner.get(f"{page_url}/settings")).text

    assert (await as_outsider.get(page_url)).status_code == 404
    assert "綠色機房挑戰" in (await as_guest.get("/campaigns")).text

    submitted = await as_employee.post(f"{page_url}/ideas", {"title": "液冷伺服器", "body": "用液冷取代風冷。"})
    assert submitted.status_code == 303, submitted.text
    idea_url = submitted.headers["location"]
    shown = await as_employee.get(idea_url)
    assert shown.status_code == 200 and "液冷伺服器" in shown.text and "Vote up" not in shown.text  # own idea
    assert (await as_outsider.get(idea_url)).status_code == 404

    assert (await as_guest.post(f"{idea_url}/vote", {"value": "1"})).status_code == 303
    assert "Take my vote back" in (await as_guest.get(idea_url)).text
    assert (await as_guest.post(f"{idea_url}/vote", {"value": "1"})).status_code == 409
    assert (await as_employee.post(f"{idea_url}/stage", {"stage": "under_review", "reason": "x"})).status_code == 403

    manager_view = (await as_owner.get(idea_url)).text
    assert 'value="under_review"' in manager_view and 'value="launched"' not in manager_view
    assert (await as_owner.post(f"{idea_url}/stage", {"stage": "launched", "reason": "跳"})).status_code == 422
    moved = await as_owner.post(f"{idea_url}/stage", {"stage": "under_review", "reason": "值得評估"})
    assert moved.status_code == 303
    assert "值得評估" in (await as_guest.get(idea_url)).text
    assert (await as_owner.post(f"{idea_url}/shortlist")).status_code == 303
    assert (await as_employee.post(f"{idea_url}/unfollow")).status_code == 303

    for order in ("top", "hot", "new", "discussed", "review", "nonsense"):
        page = await as_owner.get(f"{page_url}?order={order}")
        assert page.status_code == 200 and "液冷伺服器" in page.text, order
    employee_page = await as_employee.get(page_url)
    assert "Leaderboard" in employee_page.text and f"{page_url}/settings" not in employee_page.text

    await index_now()
    fragment = await as_guest.get(f"/campaigns/{cid}/similar-fragment?title=液冷")
    assert fragment.status_code == 200 and idea_url in fragment.text
    assert (await as_guest.get(f"/campaigns/{cid}/similar-fragment?title=完全無關")).text.strip() == ""

    waiting = await as_guest.post(f"{page_url}/ideas", {"title": "太陽能屋頂"})
    assert waiting.status_code == 303
    waiting_url = waiting.headers["location"]
    assert "Waiting for approval" in (await as_owner.get(page_url)).text
    assert "Hidden by a moderator" not in (await as_guest.get(waiting_url)).text  # waiting, not hidden
    assert (await as_employee.get(waiting_url)).status_code == 404
    assert (await as_owner.post(f"{waiting_url}/approve")).status_code == 303
    assert (await as_employee.get(waiting_url)).status_code == 200

    # Co-authors are picked from the directory among those who can see the campaign, named beside the author, a
    # guest among them marked as external.
    found = (await as_employee.get(f"/campaigns/{cid}/coauthor-candidates?coauthor_q=Invited")).text
    assert f"coauthor-chip?person_id={guest.id}" in found
    unseen = await as_employee.get(f"/campaigns/{cid}/coauthor-candidates?coauthor_q=Outsider")
    assert f"person_id={outsider.id}" not in unseen.text  # found in the directory, but cannot see the campaign
    chip = (await as_employee.get(f"/campaigns/{cid}/coauthor-chip?person_id={guest.id}")).text
    assert f'name="coauthors" value="{guest.id}" checked' in chip and "External" in chip
    refused = await as_employee.post(f"{page_url}/ideas", {"title": "共同提案", "coauthors": f"{outsider.id}"})
    assert refused.status_code == 422 and "cannot see this campaign" in refused.text
    garbled = await as_employee.post(f"{page_url}/ideas", {"title": "共同提案", "coauthors": "abc"})
    assert garbled.status_code == 422 and "person ids" in garbled.text  # named, not silently dropped
    shared = await as_employee.post(f"{page_url}/ideas", {"title": "共同提案", "coauthors": f"{guest.id}"})
    assert shared.status_code == 303, shared.text
    byline = (await as_employee.get(shared.headers["location"])).text.split('class="meta"', 1)[1].split("</p>", 1)[0]
    assert "Employee" in byline and "Invited guest" in byline and "External" in byline
