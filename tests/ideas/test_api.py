"""The idea portal's JSON API: a campaign walked by its owner, an employee, an invited guest and an outsider."""

from __future__ import annotations

import datetime as dt

from socius.core.db import utcnow
from socius.people.models import Role


async def test_a_campaign_walked_through_the_api(db, make_person, api, index_now):
    owner = await make_person("Owner")
    employee = await make_person("Employee")
    voter = await make_person("Voter")
    guest = await make_person("Invited guest", role=Role.GUEST, manager_id=owner.id)
    outsider = await make_person("Outsider guest", role=Role.GUEST, manager_id=owner.id)
    as_owner, as_employee, as_voter = await api(owner), await api(employee), await api(voter)
    as_guest, as_outsider = await api(guest), await api(outsider)

    made = await as_owner.post("/api/v1/campaigns", json={"title": "綠色機房挑戰", "brief": "如何降低能耗？"})
    assert made.status_code == 201, made.text
    cid = made.json()["id"]
    assert (await as_owner.post(f"/api/v1/campaigns/{cid}/members",
                                json={"person_ids": [guest.id]})).status_code == 200
    members = (await as_employee.get(f"/api/v1/campaigns/{cid}/members")).json()["items"]
    assert {m["person"]["id"]: m["person"]["external"] for m in members} == {owner.id: False, guest.id: True}
    assert (await as_employee.patch(f"/api/v1/campaigns/{cid}", json={"title": "x"})).status_code == 403
    changed = await as_owner.patch(f"/api/v1/campaigns/{cid}", json={"brief": "新的說明"})
    assert changed.status_code == 200 and changed.json()["brief_md"] == "新的說明"

    # An outsider guest sees nothing of it.
    assert (await as_outsider.get(f"/api/v1/campaigns/{cid}")).status_code == 404
    assert (await as_outsider.get(f"/api/v1/campaigns/{cid}/ideas")).status_code == 404
    assert (await as_outsider.get("/api/v1/campaigns")).json()["items"] == []
    assert [c["id"] for c in (await as_guest.get("/api/v1/campaigns")).json()["items"]] == [cid]

    posted = await as_employee.post(f"/api/v1/campaigns/{cid}/ideas",
                                    json={"title": "液冷伺服器", "body": "用液冷取代風冷。"})
    assert posted.status_code == 201, posted.text
    iid = posted.json()["id"]
    assert posted.json()["stage"] == "submitted" and posted.json()["following"] is True
    assert (await as_outsider.get(f"/api/v1/ideas/{iid}")).status_code == 404

    # Votes: once each way, never on one's own idea.
    assert (await as_employee.post(f"/api/v1/ideas/{iid}/vote", json={"value": 1})).status_code == 403
    voted = await as_voter.post(f"/api/v1/ideas/{iid}/vote", json={"value": 1})
    assert voted.status_code == 200 and voted.json()["up_count"] == 1 and voted.json()["my_vote"] == 1
    assert (await as_voter.post(f"/api/v1/ideas/{iid}/vote", json={"value": 1})).status_code == 409
    assert (await as_voter.post(f"/api/v1/ideas/{iid}/vote", json={"value": 2})).status_code == 422
    assert (await as_voter.post(f"/api/v1/ideas/{iid}/vote", json={"value": -1})).status_code == 422  # up only
    assert (await as_guest.post(f"/api/v1/ideas/{iid}/vote", json={"value": 1})).status_code == 200
    assert (await as_guest.delete(f"/api/v1/ideas/{iid}/vote")).json()["up_count"] == 1
    assert (await as_guest.delete(f"/api/v1/ideas/{iid}/vote")).status_code == 409

    # A guest's idea waits for the manager's approval.
    waiting = await as_guest.post(f"/api/v1/campaigns/{cid}/ideas", json={"title": "太陽能屋頂"})
    assert waiting.status_code == 201 and waiting.json()["pending"] is True
    wid = waiting.json()["id"]
    listed = (await as_employee.get(f"/api/v1/campaigns/{cid}/ideas?order=new")).json()["items"]
    assert [i["id"] for i in listed] == [iid]
    assert (await as_employee.post(f"/api/v1/ideas/{wid}/approve")).status_code == 404  # hidden until approved
    assert (await as_owner.post(f"/api/v1/ideas/{wid}/approve")).json()["pending"] is False
    listed = (await as_employee.get(f"/api/v1/campaigns/{cid}/ideas?order=new")).json()["items"]
    assert [i["id"] for i in listed] == [wid, iid]

    # Lists: bad filters are 422, review order only for managers.
    for query in ("order=best", "stage=nowhere", "page=0"):
        assert (await as_employee.get(f"/api/v1/campaigns/{cid}/ideas?{query}")).status_code == 422, query
    assert (await as_employee.get(f"/api/v1/campaigns/{cid}/ideas?order=review")).status_code == 403
    assert (await as_owner.get(f"/api/v1/campaigns/{cid}/ideas?order=review")).status_code == 200
    assert (await as_employee.get("/api/v1/campaigns?state=later")).status_code == 422

    # Stages: one step at a time, with a reason, by managers.
    assert (await as_employee.post(f"/api/v1/ideas/{iid}/stage",
                                   json={"stage": "under_review", "reason": "看看"})).status_code == 403
    assert (await as_owner.post(f"/api/v1/ideas/{iid}/stage",
                                json={"stage": "launched", "reason": "跳過"})).status_code == 422
    assert (await as_owner.post(f"/api/v1/ideas/{iid}/stage",
                                json={"stage": "under_review", "reason": ""})).status_code == 422
    moved = await as_owner.post(f"/api/v1/ideas/{iid}/stage", json={"stage": "under_review", "reason": "值得評估"})
    assert moved.status_code == 200 and moved.json()["stage"] == "under_review"
    timeline = (await as_guest.get(f"/api/v1/ideas/{iid}/timeline")).json()["items"]
    assert [(c["from_stage"], c["to_stage"]) for c in timeline] == [(None, "submitted"),
                                                                    ("submitted", "under_review")]
    stage_list = (await as_employee.get(f"/api/v1/campaigns/{cid}/ideas?stage=under_review")).json()["items"]
    assert [i["id"] for i in stage_list] == [iid]

    # Follow and shortlist.
    assert (await as_voter.put(f"/api/v1/ideas/{iid}/follow")).json()["following"] is True
    assert (await as_voter.delete(f"/api/v1/ideas/{iid}/follow")).json()["following"] is False
    assert (await as_voter.put(f"/api/v1/ideas/{iid}/shortlist")).status_code == 403
    assert (await as_owner.put(f"/api/v1/ideas/{iid}/shortlist")).json()["shortlisted"] is True
    shortlisted = (await as_employee.get(f"/api/v1/campaigns/{cid}/ideas?shortlisted=true")).json()["items"]
    assert [i["id"] for i in shortlisted] == [iid]

    # Editing: the author, with the version it started from.
    version = (await as_employee.get(f"/api/v1/ideas/{iid}")).json()["version"]
    assert (await as_voter.patch(f"/api/v1/ideas/{iid}", json={"version": version, "title": "x"})).status_code == 403
    edited = await as_employee.patch(f"/api/v1/ideas/{iid}", json={"version": version, "title": "液冷伺服器機櫃"})
    assert edited.status_code == 200 and edited.json()["title"] == "液冷伺服器機櫃"
    assert (await as_employee.patch(f"/api/v1/ideas/{iid}",
                                    json={"version": version, "title": "舊版本"})).status_code == 409

    # Similar ideas come from the search index, only this campaign's.
    await index_now()
    similar = (await as_voter.get(f"/api/v1/campaigns/{cid}/similar", params={"title": "液冷 機櫃 散熱"})).json()
    assert [s["id"] for s in similar["items"]] == [iid]
    assert (await as_outsider.get(f"/api/v1/campaigns/{cid}/similar?title=液冷")).status_code == 404

    # Closed: no more votes or ideas; archived by its owner.
    assert (await as_owner.patch(f"/api/v1/campaigns/{cid}", json={
        "opens_at": (utcnow() - dt.timedelta(days=2)).isoformat(),
        "closes_at": (utcnow() - dt.timedelta(seconds=1)).isoformat()})).status_code == 200
    assert (await as_voter.post(f"/api/v1/ideas/{wid}/vote", json={"value": 1})).status_code == 409
    assert (await as_employee.post(f"/api/v1/campaigns/{cid}/ideas", json={"title": "晚了"})).status_code == 409
    closed = (await as_employee.get("/api/v1/campaigns?state=closed")).json()["items"]
    assert [c["id"] for c in closed] == [cid]
    assert (await as_employee.post(f"/api/v1/campaigns/{cid}/archive")).status_code == 403
    assert (await as_owner.post(f"/api/v1/campaigns/{cid}/archive")).json()["archived_at"] is not None
    assert (await as_owner.delete(f"/api/v1/campaigns/{cid}/members/{guest.id}")).status_code == 204
    assert (await as_guest.get(f"/api/v1/campaigns/{cid}")).status_code == 404
    assert (await as_owner.delete(f"/api/v1/campaigns/{cid}/members/{owner.id}")).status_code == 409
