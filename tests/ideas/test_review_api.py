"""Reviews and metrics through the JSON API."""

from __future__ import annotations

from socius.ideas import review
from socius.people.models import Role


async def test_assign_review_and_metrics_over_the_api(db, app, bearer, make_person, campaign, idea):
    owner = await make_person("Owner")
    author = await make_person("Author")
    reviewer = await make_person("Reviewer")
    admin = await make_person("Admin", role=Role.ADMINISTRATOR)
    made = await campaign(owner, criteria=[{"name": "影響", "weight": 2}, {"name": "成本"}])
    posted = await idea(author, made)
    crit = await review.criteria(db, made.id)
    async with await bearer(app, owner) as api:
        refused = await api.post(f"/api/v1/ideas/{posted.item.id}/reviewers", json={"person_ids": [author.id]})
        assert refused.status_code == 422 and refused.json()["error"]["fields"][0]["field"] == "person_ids"
        done = await api.post(f"/api/v1/ideas/{posted.item.id}/reviewers", json={"person_ids": [reviewer.id]})
        assert done.status_code == 200 and done.json() == {"added": [reviewer.id]}
    async with await bearer(app, author) as api:
        assert (await api.get(f"/api/v1/ideas/{posted.item.id}/review")).status_code == 404
        assert (await api.get(f"/api/v1/campaigns/{made.id}/metrics")).status_code == 403
    async with await bearer(app, reviewer) as api:
        saved = await api.put(f"/api/v1/ideas/{posted.item.id}/review",
                              json={"scores": {str(crit[0].id): 5, str(crit[1].id): 2}, "comment": "好",
                                    "submit": True})
        assert saved.status_code == 200, saved.text
        assert saved.json()["mine"]["score"] == 4.0  # (5·2 + 2·1) / 3
        mine = await api.get("/api/v1/reviews/mine")
        assert [r["idea_id"] for r in mine.json()["items"]] == [posted.item.id]
        seen = await api.get(f"/api/v1/ideas/{posted.item.id}/reviews")
        assert [r["reviewer_id"] for r in seen.json()["items"]] == [reviewer.id]
    async with await bearer(app, owner) as api:
        found = await api.get(f"/api/v1/campaigns/{made.id}/metrics", params={"start": "2020-01-01"})
        assert found.status_code == 200 and found.json()["new_voices"] >= 1
        exported = await api.get(f"/api/v1/campaigns/{made.id}/metrics.csv")
        assert exported.content.startswith("\ufeff".encode()) and "text/csv" in exported.headers["content-type"]
        assert "New voices (first contribution ever)," in exported.content.decode("utf-8-sig")
        chinese = await api.get(f"/api/v1/campaigns/{made.id}/metrics.csv", headers={"Accept-Language": "zh-TW"})
        assert "新聲音（首次參與）," in chinese.content.decode("utf-8-sig")  # the reader's language
        assert (await api.get("/api/v1/ideas/metrics")).status_code == 403
        assert (await api.get(f"/api/v1/campaigns/{made.id}/metrics", params={"start": "x"})).status_code == 422
    async with await bearer(app, admin) as api:
        overall = await api.get("/api/v1/ideas/metrics")
        assert overall.status_code == 200 and overall.json()["campaign_id"] is None
