"""The idea portal's review, metrics and full campaign form pages, merged ideas' redirects and refused buttons:
what each person sees."""

from __future__ import annotations

from socius.ideas import merging, review, service
from socius.people.models import Role
from tests.forum.conftest import browser  # noqa: F401 - signed-in page clients

CRITERIA = [{"name": "影響力", "weight": 3}, {"name": "可行性", "weight": 1}]


async def test_blind_review_pages(db, make_person, browser, campaign, idea):  # noqa: F811
    owner, author = await make_person("Owner"), await make_person("Author")
    first, second = await make_person("Reviewer One"), await make_person("Reviewer Two")
    made = await campaign(owner, criteria=CRITERIA, blind_review=True)
    posted = await idea(author, made)
    crit = await review.criteria(db, made.id)
    as_owner, as_first, as_second = await browser(owner), await browser(first), await browser(second)
    url = f"/ideas/{posted.item.id}"

    # Assigning the author is a conflict of interest: the idea's page says so, in place, and nothing changes.
    refused = await as_owner.post(f"{url}/reviewers", {"person_id": str(author.id)})
    assert refused.status_code == 422
    assert "authors and co-authors cannot review their own idea" in refused.text and 'class="alert"' in refused.text
    assert (await as_owner.post(f"{url}/reviewers", {"person_id": str(first.id)})).status_code == 303
    assert (await as_owner.post(f"{url}/reviewers", {"person_id": str(second.id)})).status_code == 303
    assert (await as_first.post(f"{url}/reviewers", {"person_id": str(second.id)})).status_code == 403

    mine = await as_first.get("/reviews")
    assert mine.status_code == 200 and f'href="{url}/review"' in mine.text and "To do" in mine.text
    assert f'href="{url}/review"' in (await as_first.get(url)).text
    assert (await as_owner.get(f"{url}/review")).status_code == 404  # not assigned: nothing to review

    # The second reviewer submits 5 and 5; the first, still drafting, does not see those scores.
    submitted = await as_second.post(f"{url}/review", {f"score-{crit[0].id}": "5", f"score-{crit[1].id}": "5",
                                                       "comment": "非常好", "submit": "1"})
    assert submitted.status_code == 303
    draft = await as_first.post(f"{url}/review", {f"score-{crit[0].id}": "2", "comment": "再想想", "save": "1"})
    assert draft.status_code == 303
    page = (await as_first.get(draft.headers["location"])).text
    assert "Your draft is saved" in page
    assert "shown once you have submitted yours" in page and "非常好" not in page and 'class="other-review"' not in page
    assert 'selected>2</option>' in page and "再想想" in page

    incomplete = await as_first.post(f"{url}/review", {f"score-{crit[0].id}": "2", "submit": "1"})
    assert incomplete.status_code == 422 and "every criterion must be scored" in incomplete.text
    done = await as_first.post(f"{url}/review", {f"score-{crit[0].id}": "1", f"score-{crit[1].id}": "1",
                                                 "submit": "1"})
    assert done.status_code == 303
    page = (await as_first.get(done.headers["location"])).text
    assert "Your review is submitted" in page and "非常好" in page and 'class="other-review"' in page
    assert (await as_first.post(f"{url}/review", {"comment": "改"})).status_code == 409

    # Managers see every review, the score (mean of 5 and 1) and the spread (2).
    managed = (await as_owner.get(url)).text
    assert "Score 3.00 of 5, spread 2.00" in managed and "非常好" in managed and "Reviewer One" in managed
    assert (await as_owner.post(f"{url}/reviewers/{first.id}/remove")).status_code == 409  # submitted: stays


async def test_unassigning_a_reviewer(db, make_person, browser, campaign, idea):  # noqa: F811
    owner, author, reviewer = await make_person("Owner"), await make_person("Author"), await make_person("R")
    made = await campaign(owner, criteria=CRITERIA)
    posted = await idea(author, made)
    await review.assign_reviewers(db, owner.principal, posted.item.id, [reviewer.id])
    as_owner = await browser(owner)
    assert (await as_owner.post(f"/ideas/{posted.item.id}/reviewers/{reviewer.id}/remove")).status_code == 303
    assert await review.my_reviews(db, reviewer.principal) == []


async def test_metrics_pages(db, make_person, browser, campaign, idea):  # noqa: F811
    owner, employee = await make_person("Owner"), await make_person("Employee", department="研發部")
    outsider = await make_person("Outsider", role=Role.GUEST, manager_id=owner.id)
    admin = await make_person("Admin", role=Role.ADMINISTRATOR)
    made = await campaign(owner)
    for title in ("液冷", "太陽能", "雨水回收"):
        await idea(employee, made, title)
    moved = await idea(employee, made, "熱回收")
    await service.change_stage(db, owner.principal, moved.item.id, "under_review", "值得評估")
    as_owner, as_employee = await browser(owner), await browser(employee)
    as_outsider, as_admin = await browser(outsider), await browser(admin)
    url = f"/campaigns/{made.id}/metrics"

    page = await as_owner.get(url)
    assert page.status_code == 200
    assert '<th scope="row">Submitted</th>' in page.text and '<td class="count">3</td>' in page.text
    assert '<th scope="row">Under review</th>' in page.text and "bar w-100" in page.text and "bar w-35" in page.text
    assert "研發部" in page.text and f'href="/api/v1/campaigns/{made.id}/metrics.csv"' in page.text
    assert 'class="new-voices">1<' in page.text
    assert (await as_employee.get(url)).status_code == 403  # reads the campaign, does not manage it
    assert (await as_outsider.get(url)).status_code == 404  # cannot even read it
    assert f'href="{url}"' in (await as_owner.get(f"/campaigns/{made.id}")).text

    later = await as_owner.get(f"{url}?start=2099-01-01")
    assert later.status_code == 200 and "Nobody took part in this period." in later.text
    assert "metrics.csv?start=2099-01-01" in later.text
    bad = await as_owner.get(f"{url}?start=2026-02-01&end=2026-01-01")
    assert bad.status_code == 422 and "must be after the start" in bad.text

    assert (await as_employee.get("/ideas/metrics")).status_code == 403
    overall = await as_admin.get("/ideas/metrics")
    assert overall.status_code == 200 and "Metrics of all campaigns" in overall.text
    assert 'href="/ideas/metrics"' in (await as_admin.get("/campaigns")).text


async def test_the_full_campaign_form(db, make_person, browser, community):  # noqa: F811
    owner = await make_person("Owner")
    place = await community(owner, "節能社群")
    as_owner = await browser(owner)
    form = (await as_owner.get("/campaigns/new")).text
    assert f'<option value="{place.id}">節能社群</option>' in form
    assert 'name="moderate_guests" id="moderate_guests" checked' in form

    bad = await as_owner.post("/campaigns", {"title": "節能挑戰", "opens_at": "2026-12-01T09:00+08:00",
                                             "closes_at": "2026-11-01T09:00+08:00", "stages": "構想\n試行",
                                             "criterion_name": ["影響力", ""], "criterion_weight": ["3", ""]})
    assert bad.status_code == 422
    assert '<p class="field-error" id="closes_at-error">must be after the opening</p>' in bad.text
    assert 'value="影響力"' in bad.text and "構想\n試行" in bad.text  # what was typed stays

    made = await as_owner.post("/campaigns", {
        "title": "節能挑戰", "audience": "community", "community_id": str(place.id),
        "opens_at": "2026-01-01T09:00+08:00", "closes_at": "2099-01-01T09:00+08:00", "stages": "構想\n試行\n推廣",
        "criterion_name": ["影響力", "成本", ""], "criterion_weight": ["3", "1.5", ""],
        "allow_down_votes": "on", "blind_review": "on"})
    assert made.status_code == 303, made.text
    cid = int(made.headers["location"].rsplit("/", 1)[1])
    saved = await service.get_campaign(db, owner.principal, cid)
    assert (saved.audience, saved.community_id, saved.stages) == ("community", place.id, ["構想", "試行", "推廣"])
    assert (saved.allow_down_votes, saved.blind_review, saved.moderate_guests, saved.allow_skip) == (
        True, True, False, False)
    assert [(c.name, c.weight) for c in await review.criteria(db, cid)] == [("影響力", 3.0), ("成本", 1.5)]

    settings = (await as_owner.get(f"/campaigns/{cid}/settings")).text
    assert 'value="影響力"' in settings and 'value="1.5"' in settings and "構想\n試行\n推廣" in settings
    weightless = await as_owner.post(f"/campaigns/{cid}/settings", {
        "title": "節能挑戰", "audience": "community", "community_id": str(place.id),
        "opens_at": "2026-01-01T09:00+08:00", "stages": "構想\n試行\n推廣",
        "criterion_name": ["影響力"], "criterion_weight": ["很多"]})
    assert weightless.status_code == 422 and "each weight must be a number" in weightless.text
    elsewhere = await as_owner.post("/campaigns", {"title": "別處", "audience": "community", "community_id": "999999"})
    assert elsewhere.status_code == 422 and 'id="community_id-error">no such community<' in elsewhere.text


async def test_a_merged_idea_redirects_to_where_it_went(db, make_person, browser, campaign, idea, api):  # noqa: F811
    owner, author = await make_person("Owner"), await make_person("Author")
    made = await campaign(owner)
    kept, merged = await idea(author, made, "液冷伺服器"), await idea(author, made, "液體冷卻")
    as_owner, as_author = await browser(owner), await browser(author)

    refused = await as_owner.post(f"/ideas/{kept.item.id}/merge", {"into": str(kept.item.id)})
    assert refused.status_code == 422 and 'class="alert"' in refused.text  # not into itself, said in place
    assert (await as_owner.post(f"/ideas/{merged.item.id}/merge", {"into": str(kept.item.id)})).status_code == 303
    redirected = await as_author.get(f"/ideas/{merged.item.id}")
    assert redirected.status_code == 303 and redirected.headers["location"] == f"/ideas/{kept.item.id}"
    target = (await as_author.get(f"/ideas/{kept.item.id}")).text
    assert "Merged from" in target and "液體冷卻" in target and "Undo merge" not in target
    assert "Undo merge" in (await as_owner.get(f"/ideas/{kept.item.id}")).text

    shown = await (await api(author)).get(f"/api/v1/ideas/{merged.item.id}")  # the API says where it went
    assert shown.status_code == 200 and shown.json()["merged_into_id"] == kept.item.id

    [row] = await merging.merges_of(db, kept.item.id)
    undone = await as_owner.post(f"/idea-merges/{row.id}/undo", {"idea_id": str(kept.item.id)})
    assert undone.status_code == 303 and undone.headers["location"] == f"/ideas/{merged.item.id}"
    assert (await as_author.get(f"/ideas/{merged.item.id}")).status_code == 200


async def test_refused_buttons_say_why_in_place(db, make_person, browser, campaign, idea):  # noqa: F811
    owner, author, voter = await make_person("Owner"), await make_person("Author"), await make_person("Voter")
    made = await campaign(owner)
    posted = await idea(author, made)
    url = f"/ideas/{posted.item.id}"
    as_voter, as_author, as_owner = await browser(voter), await browser(author), await browser(owner)
    assert (await as_voter.post(f"{url}/vote", {"value": "1"})).status_code == 303
    again = await as_voter.post(f"{url}/vote", {"value": "1"})
    assert again.status_code == 409 and 'class="alert" role="alert"' in again.text and "液冷伺服器" in again.text
    own = await as_author.post(f"{url}/vote", {"value": "1"})
    assert own.status_code == 403 and 'class="alert"' in own.text
    skipped = await as_owner.post(f"{url}/stage", {"stage": "launched", "reason": "跳"})
    assert skipped.status_code == 422 and 'class="alert"' in skipped.text and "Change stage" in skipped.text


async def test_a_manager_finds_reviewers_in_the_directory(db, make_person, browser, campaign, idea):  # noqa: F811
    owner, author = await make_person("Owner"), await make_person("Author Lin")
    colleague = await make_person("Reviewer Lin")
    partner = await make_person("Partner Lin", role=Role.GUEST, manager_id=owner.id)
    made = await campaign(owner, participants=[partner])
    posted = await idea(author, made)
    as_owner, as_author = await browser(owner), await browser(author)
    url = f"/ideas/{posted.item.id}/reviewer-candidates?reviewer_q=Lin"
    found = (await as_owner.get(url)).text
    assert f'name="person_id" value="{colleague.id}"' in found
    assert f'value="{author.id}"' not in found  # wrote the idea
    assert f'value="{partner.id}"' not in found  # a guest: employees review
    assert (await as_author.get(url)).status_code == 403  # only managers assign


async def test_a_manager_finds_people_to_add_in_the_directory(db, make_person, browser, campaign):  # noqa: F811
    owner = await make_person("Owner")
    joined, newcomer = await make_person("Member Wang"), await make_person("Newcomer Wang")
    made = await campaign(owner, audience="invited", participants=[joined])
    as_owner, as_joined = await browser(owner), await browser(joined)
    url = f"/campaigns/{made.id}/members/candidates?q=Wang"
    found = (await as_owner.get(url)).text
    assert f'name="person_id" value="{newcomer.id}"' in found
    assert f'value="{joined.id}"' not in found  # already in the campaign
    assert (await as_joined.get(url)).status_code == 403  # only managers add people
    added = await as_owner.post(f"/campaigns/{made.id}/members", {"person_id": str(newcomer.id)})
    assert added.status_code == 303 and "Newcomer Wang" in (await as_owner.get(f"/campaigns/{made.id}/members")).text


async def test_the_pickers_answer_bad_input_without_an_error(db, make_person, browser, campaign, idea):  # noqa: F811
    owner = await make_person("Owner")
    made = await campaign(owner)
    posted = await idea(owner, made)
    as_owner = await browser(owner)
    for q in ("", "a" * 10_000, "\x00\x1f", "'; DROP TABLE person; --", '"unbalanced', "🙂🙂", "name:(x OR y)"):
        for url, field in ((f"/campaigns/{made.id}/coauthor-candidates", "coauthor_q"),
                           (f"/campaigns/{made.id}/members/candidates", "q"),
                           (f"/ideas/{posted.item.id}/reviewer-candidates", "reviewer_q")):
            answered = await as_owner.get(url, params={field: q})
            assert answered.status_code == 200, (url, q[:20], answered.status_code)
    for person_id in ("", "-1", "abc", "9" * 30, "0"):
        chip = await as_owner.get(f"/campaigns/{made.id}/coauthor-chip", params={"person_id": person_id})
        assert chip.status_code == 404, person_id
