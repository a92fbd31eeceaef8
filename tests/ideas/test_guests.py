"""Guests invited to a campaign by e-mail: the e-mail with its one-time link (a real SMTP server receives it),
choosing a password, landing on the campaign, taking part — and seeing nothing else of the company but the people
they meet there. Also: removing a guest voids the link, and a removed member no longer sees old notifications."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select

from socius.accounts import invitations
from socius.accounts.models import GuestInvitation
from socius.content import service as content
from socius.ideas import service
from socius.ideas.models import CampaignMember, Idea
from socius.notifications import service as notifications
from socius.notifications.models import Notification
from socius.people.models import Person
from tests.conftest import csrf_from, sign_in
from tests.notifications.conftest import body, deferred


def _client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver",
                             headers={"Accept-Language": "en"})


async def _invite_and_mail(db, api, owner, campaign_id: int, address: str, mail_settings, sink, **extra) -> tuple:
    response = await (await api(owner)).post(f"/api/v1/campaigns/{campaign_id}/invitations",
                                             json={"emails": [address], **extra})
    assert response.status_code == 200, response.text
    [guest_id] = response.json()["new_guests"]
    [job] = [j for j in await deferred(db, "guest_invitation")
             if (await db.get(GuestInvitation, j["invitation_id"])).person_id == guest_id]
    assert await invitations.send_invitation(db, mail_settings, job["invitation_id"]) is True
    [message] = sink.to(address.lower())
    token = re.search(r"/invitations/([\w-]+)", body(message)).group(1)
    return guest_id, token, message, job["invitation_id"]


async def test_an_invited_guest_sets_a_password_takes_part_and_sees_only_the_campaign_and_its_people(
        db, app, api, make_person, campaign, idea, community, mail_settings, sink, index_now):
    owner = await make_person("Owner", username="owner")
    manager = await make_person("Manager Mei", username="mei")
    author = await make_person("Author Andy", username="andy")
    commenter = await make_person("Commenter Chen", username="chen")
    stranger = await make_person("Stranger Sam", username="sam")
    green = await campaign(owner, "綠色機房挑戰", managers=[manager])
    other = await campaign(owner, "Other campaign")
    public = await community(stranger, "Everyone", access="public")
    idea_by_author = await idea(author, green, "液冷伺服器")
    await content.comment(db, commenter.principal, idea_by_author.item.id, "好主意")
    await idea(stranger, other, "Not for guests")

    guest_id, token, message, invitation_id = await _invite_and_mail(
        db, api, owner, green.id, "Jane.Doe@Partner.example", mail_settings, sink, name="Jane Doe")
    guest = await db.get(Person, guest_id)
    assert (guest.role, guest.email, guest.display_name) == ("guest", "jane.doe@partner.example", "Jane Doe")
    assert (await db.get(CampaignMember, (green.id, guest_id))).role == "participant"
    assert "綠色機房挑戰" in message["Subject"]
    row = await db.get(GuestInvitation, invitation_id)
    assert row.campaign_id == green.id and row.community_id is None and token not in row.token_hash

    async with _client(app) as client:
        page = await client.get(f"/invitations/{token}")
        assert page.status_code == 200 and "綠色機房挑戰" in page.text and "jane.doe" in page.text
        csrf = await csrf_from(client, f"/invitations/{token}")
        response = await client.post(f"/invitations/{token}", data={
            "csrf_token": csrf, "password": "a-long-passphrase", "repeat": "a-long-passphrase"})
        assert response.status_code == 303 and response.headers["location"] == f"/campaigns/{green.id}"
        # Signed in, on the campaign; an idea of theirs waits for approval (the campaign moderates guests).
        assert (await client.get(f"/campaigns/{green.id}")).status_code == 200
        csrf = await csrf_from(client, f"/campaigns/{green.id}")
        response = await client.post(f"/campaigns/{green.id}/ideas", data={
            "csrf_token": csrf, "title": "Partner idea", "body": "From outside."})
        assert response.status_code == 303, response.text
        idea_id = int(response.headers["location"].rsplit("/", 1)[1])
        assert (await db.get(Idea, idea_id)).pending is True
        assert "Waiting for approval" in (await client.get(f"/ideas/{idea_id}")).text
        # Nothing else of the company: no other campaign, no community.
        assert (await client.get(f"/campaigns/{other.id}")).status_code == 404
        assert (await client.get(f"/communities/{public.id}")).status_code == 404
        assert "Other campaign" not in (await client.get("/campaigns")).text
        # The directory: the campaign's managers and the authors there, nobody else.
        for seen in (owner, manager, author, commenter):
            assert (await client.get(f"/people/{seen.id}")).status_code == 200, seen.display_name
        assert (await client.get(f"/people/{stranger.id}")).status_code == 404
        directory = (await client.get("/people")).text
        assert "Author Andy" in directory and "Commenter Chen" in directory and "Stranger Sam" not in directory
        # The link worked once.
        assert (await client.get(f"/invitations/{token}")).status_code == 404
    row = await db.get(GuestInvitation, invitation_id, populate_existing=True)
    assert row.token_hash is None and row.accepted_at is not None

    # The API says the same; the members list shows only the people the guest may see.
    client = await api(guest)
    assert [c["title"] for c in (await client.get("/api/v1/campaigns")).json()["items"]] == ["綠色機房挑戰"]
    assert (await client.get(f"/api/v1/people/{stranger.id}")).status_code == 404
    people = {p["display_name"] for p in (await client.get("/api/v1/people")).json()["items"]}
    assert people == {"Owner", "Manager Mei", "Author Andy", "Commenter Chen", "Jane Doe"}
    members = {m["person"]["display_name"] for m in
               (await client.get(f"/api/v1/campaigns/{green.id}/members")).json()["items"]}
    assert members == {"Owner", "Manager Mei", "Jane Doe"}
    # People search finds whom the directory shows: the owner, the managers, the authors met in the campaign.
    await index_now()

    async def people(q: str) -> list[str]:
        found = (await client.get("/api/v1/search", params={"q": q, "kind": "person"})).json()
        assert found["total"] == len(found["items"])
        return [i["title"] for i in found["items"]]

    assert await people("Stranger") == []
    assert [await people(q) for q in ("Owner", "Mei", "Andy", "Chen")] == [
        ["Owner"], ["Manager Mei"], ["Author Andy"], ["Commenter Chen"]]
    # Once the idea is hidden, its author and commenter leave the guest's directory, and its search.
    await content.set_hidden(db, manager.principal, idea_by_author.item.id, True)
    await index_now()
    assert await people("Andy") == [] and await people("Chen") == []
    assert (await client.get(f"/api/v1/people/{author.id}")).status_code == 404
    await content.set_hidden(db, manager.principal, idea_by_author.item.id, False)
    await index_now()
    assert await people("Andy") == ["Author Andy"]
    assert (await client.get("/api/v1/search", params={"q": "Not for guests"})).json()["total"] == 0

    # Everyone sees the guest's name marked as external, on the idea once approved.
    await service.approve_idea(db, manager.principal, idea_id)
    async with _client(app) as client:
        await sign_in(client, author)
        page = (await client.get(f"/ideas/{idea_id}")).text
        assert re.search(r'Jane Doe</a><span class="badge external">External</span>', page), page
        campaign_page = (await client.get(f"/campaigns/{green.id}")).text
        assert re.search(r'Jane Doe</a><span class="badge external">External</span>', campaign_page)


async def test_removing_the_guest_voids_the_link_and_inviting_again_sends_a_fresh_one(
        db, app, api, make_person, campaign, mail_settings, sink):
    owner = await make_person("Owner")
    green = await campaign(owner, "Green", audience="invited")
    guest_id, token, _, invitation_id = await _invite_and_mail(db, api, owner, green.id, "x@partner.example",
                                                               mail_settings, sink)
    client = await api(owner)
    assert (await client.delete(f"/api/v1/campaigns/{green.id}/members/{guest_id}")).status_code == 204
    async with _client(app) as browser:
        assert (await browser.get(f"/invitations/{token}")).status_code == 404
    row = await db.get(GuestInvitation, invitation_id, populate_existing=True)
    assert row.token_hash is None and row.accepted_at is None
    # Added back (by id), the old link stays void; inviting the address again sends a fresh one.
    await client.post(f"/api/v1/campaigns/{green.id}/members", json={"person_ids": [guest_id]})
    async with _client(app) as browser:
        assert (await browser.get(f"/invitations/{token}")).status_code == 404
    response = await client.post(f"/api/v1/campaigns/{green.id}/invitations", json={"emails": ["x@partner.example"]})
    assert response.json() == {"person_ids": [], "new_guests": [], "resent": [guest_id]}


async def test_an_address_someone_has_adds_them_and_bad_input_changes_nothing(db, api, make_person, campaign):
    owner = await make_person("Owner")
    participant = await make_person("Participant")
    known = await make_person("Known", email="known@example.com")
    green = await campaign(owner, "Green", audience="invited", participants=[participant])
    client = await api(owner)
    response = await client.post(f"/api/v1/campaigns/{green.id}/invitations", json={"emails": ["KNOWN@example.com"]})
    assert response.json() == {"person_ids": [known.id], "new_guests": [], "resent": []}
    assert await deferred(db, "guest_invitation") == []
    told = (await db.execute(select(Notification.kind, Notification.campaign_id)
                             .where(Notification.person_id == known.id))).all()
    assert told == [("campaign_invited", green.id)]

    for emails, field in ((["not an address"], "emails"), ([], "emails"), (["a@b.example"] * 51, "emails")):
        response = await client.post(f"/api/v1/campaigns/{green.id}/invitations", json={"emails": emails})
        assert response.status_code == 422 and field in response.text, response.text
    response = await client.post(f"/api/v1/campaigns/{green.id}/invitations",
                                 json={"emails": ["n@partner.example"], "name": "x" * 201})
    assert response.status_code == 422 and "name" in response.text
    response = await client.post(f"/api/v1/campaigns/{green.id}/invitations",
                                 json={"emails": ["ok@partner.example", "bad"]})
    assert response.status_code == 422
    assert await db.scalar(select(Person.id).where(Person.email == "ok@partner.example")) is None
    # Participants do not invite; outsiders of a private campaign do not learn it exists.
    response = await (await api(participant)).post(f"/api/v1/campaigns/{green.id}/invitations",
                                                   json={"emails": ["n@partner.example"]})
    assert response.status_code == 403
    outsider = await make_person("Outsider")
    response = await (await api(outsider)).post(f"/api/v1/campaigns/{green.id}/invitations",
                                                json={"emails": ["n@partner.example"]})
    assert response.status_code == 404


async def test_the_members_page_invites_by_email_and_shows_refusals(db, app, make_person, campaign, login):
    owner = await make_person("Owner", username="owner")
    green = await campaign(owner, "Green", audience="invited")
    async with _client(app) as client:
        csrf = await login(client, owner)
        response = await client.post(f"/campaigns/{green.id}/members/invite-email",
                                     data={"csrf_token": csrf, "emails": "one@partner.example, nope"})
        assert response.status_code == 422 and "not an e-mail address: nope" in response.text
        response = await client.post(f"/campaigns/{green.id}/members/invite-email",
                                     data={"csrf_token": csrf, "emails": "one@partner.example", "name": "Uno"})
        assert response.status_code == 303
        page = await client.get(f"/campaigns/{green.id}/members")
        assert "Uno" in page.text and "one@partner.example" in page.text and "badge external" in page.text


async def test_a_removed_member_no_longer_sees_old_campaign_notifications(db, make_person, campaign, idea):
    owner = await make_person("Owner")
    member = await make_person("Member")
    private = await campaign(owner, "Secret roadmap", audience="invited", participants=[member])
    mine = await idea(member, private, "Quiet launch")
    await service.change_stage(db, owner.principal, mine.item.id, "under_review", "Looks good")
    shown = [s.message for s in await notifications.latest(db, member.principal)]
    assert len(shown) == 2 and any("Secret roadmap" in m for m in shown) and any("Quiet launch" in m for m in shown)
    assert await notifications.unread_count(db, member.principal) == 2

    await service.remove_member(db, owner.principal, private.id, member.id)
    assert await notifications.latest(db, member.principal) == []
    assert await notifications.unread_count(db, member.principal) == 0
    # Notifications of an employees' campaign stay: every employee reads it.
    everyone = await campaign(owner, "Open to all", participants=[member])
    assert [s.message for s in await notifications.latest(db, member.principal)] == [
        "Owner invited you to the campaign “Open to all”"]
    assert everyone.id
