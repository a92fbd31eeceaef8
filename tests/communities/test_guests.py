"""Inviting a guest by e-mail: the guest person, the e-mail with its one-time link (a real SMTP server receives
it), choosing a password, landing in the community — and seeing nothing else."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from socius.accounts import invitations as guests
from socius.accounts.models import Account, GuestInvitation
from socius.admin.models import AuditEntry
from socius.communities.models import Membership
from socius.notifications.models import Notification
from socius.people.models import Person
from tests.conftest import csrf_from
from tests.notifications.conftest import body, deferred


async def invite(client, community_id: int, **payload):
    return await client.post(f"/api/v1/communities/{community_id}/members", json=payload)


async def test_a_new_address_becomes_a_guest_who_sets_a_password_and_sees_only_that_community(
        db, api, app, make_person, community, mail_settings, sink, login):
    owner = await make_person("Owner", username="owner")
    colleague = await make_person("Colleague", username="colleague", guest_hidden=["phone", "email"],
                                  phone="+886 2 1234 5678")
    stranger = await make_person("Stranger", username="stranger")
    partners = await community(owner, "夥伴專案", access="restricted", members=[colleague])
    await community(owner, "Everyone", access="public", members=[stranger])
    other_secret = await community(stranger, "Other secret", access="restricted")

    response = await invite(await api(owner), partners.id, emails=["Jane.Doe@Partner.example"], name="Jane Doe")
    assert response.status_code == 200, response.text
    [guest_id] = response.json()["new_guests"]
    guest = await db.get(Person, guest_id)
    assert (guest.role, guest.email, guest.display_name, guest.manager_id) == (
        "guest", "jane.doe@partner.example", "Jane Doe", owner.id)
    account = await db.scalar(select(Account).where(Account.person_id == guest_id))
    assert account.username == "jane.doe" and account.password_hash is None  # no usable password yet
    assert (await db.get(Membership, (partners.id, guest_id))).state == "invited"
    [job] = await deferred(db, "guest_invitation")
    actions = set(await db.scalars(select(AuditEntry.action).where(AuditEntry.object_id == str(partners.id))))
    assert "community.invite_guest" in actions

    # The job: a token made now, only its hash kept, the link mailed.
    assert await guests.send_invitation(db, mail_settings, job["invitation_id"]) is True
    assert await guests.send_invitation(db, mail_settings, job["invitation_id"]) is False  # sent once
    [message] = sink.to("jane.doe@partner.example")
    assert "夥伴專案" in message["Subject"] and message["List-Unsubscribe"] is None
    token = re.search(r"/invitations/([\w-]+)", body(message)).group(1)
    row = await db.get(GuestInvitation, job["invitation_id"])
    assert row.token_hash and token not in row.token_hash and row.sent_at is not None
    assert row.expires_at - row.created_at >= dt.timedelta(days=13, hours=23)

    # The link: a page to choose a password (refusals say why), then signed in, in the community.
    page = await app_client_get(app, f"/invitations/{token}")
    assert page.status_code == 200 and "jane.doe" in page.text and "夥伴專案" in page.text
    async with _client(app) as client:
        csrf = await csrf_from(client, f"/invitations/{token}")
        response = await client.post(f"/invitations/{token}", data={"csrf_token": csrf, "password": "short",
                                                                    "repeat": "short"})
        assert response.status_code == 422 and "at least 10" in response.text
        response = await client.post(f"/invitations/{token}", data={
            "csrf_token": csrf, "password": "a-long-passphrase", "repeat": "another-passphrase"})
        assert response.status_code == 422 and "does not match" in response.text
        response = await client.post(f"/invitations/{token}", data={
            "csrf_token": csrf, "password": "a-long-passphrase", "repeat": "a-long-passphrase"})
        assert response.status_code == 303 and response.headers["location"] == f"/communities/{partners.id}"
        # Signed in as the guest, in the community.
        page = await client.get(f"/communities/{partners.id}")
        assert page.status_code == 200 and "You are a member" in page.text
        # Nothing else: not the public community, not the catalog's others, not the directory beyond co-members.
        catalog = await client.get("/communities")
        assert "夥伴專案" in catalog.text and "Everyone" not in catalog.text and "Other secret" not in catalog.text
        assert (await client.get(f"/communities/{other_secret.id}")).status_code == 404
        directory = await client.get("/people")
        assert "Colleague" in directory.text and "Stranger" not in directory.text
        assert (await client.get(f"/people/{stranger.id}")).status_code == 404
        profile = await client.get(f"/people/{colleague.id}")
        assert profile.status_code == 200 and "1234 5678" not in profile.text and "colleague@" not in profile.text
        assert (await client.get("/experts?q=x")).status_code in (403, 404)
        # The link worked once.
        assert (await client.get(f"/invitations/{token}")).status_code == 404
    assert (await db.get(Membership, (partners.id, guest_id), populate_existing=True)).state == "active"
    row = await db.get(GuestInvitation, job["invitation_id"], populate_existing=True)
    assert row.token_hash is None and row.accepted_at is not None

    # Through the API with a token of their own: the same.
    client = await api(guest)
    assert [c["name"] for c in (await client.get("/api/v1/communities")).json()["items"]] == ["夥伴專案"]
    seen = (await client.get(f"/api/v1/people/{colleague.id}")).json()
    assert seen["email"] is None and seen["phone"] is None
    assert (await client.get(f"/api/v1/people/{stranger.id}")).status_code == 404
    assert [p["display_name"] for p in (await client.get("/api/v1/people")).json()["items"]
            if p["display_name"] == "Stranger"] == []
    assert (await client.post("/api/v1/communities", json={"name": "Mine"})).status_code == 403


async def test_an_address_someone_has_is_an_ordinary_invitation(db, api, make_person, community):
    owner = await make_person("Owner")
    known = await make_person("Known", email="known@example.com")
    made = await community(owner, "Team", access="restricted")
    response = await invite(await api(owner), made.id, emails=["KNOWN@example.com"])
    assert response.json() == {"person_ids": [known.id], "new_guests": [], "resent": []}
    assert await deferred(db, "guest_invitation") == []
    told = list(await db.scalars(select(Notification.kind).where(Notification.person_id == known.id)))
    assert told == ["invited"]
    assert await db.scalar(select(Person.id).where(Person.email == "known@example.com", Person.id != known.id)) \
        is None


async def test_only_owners_and_moderators_invite_by_email(db, api, make_person, community):
    owner = await make_person("Owner")
    member = await make_person("Member")
    made = await community(owner, "Open", access="public", members=[member])
    response = await invite(await api(member), made.id, emails=["x@partner.example"])
    assert response.status_code == 403
    assert await db.scalar(select(Person.id).where(Person.email == "x@partner.example")) is None
    outsider = await make_person("Outsider")
    secret = await community(owner, "Secret", access="restricted")
    assert (await invite(await api(outsider), secret.id, emails=["x@partner.example"])).status_code == 404


async def test_expired_withdrawn_and_unknown_links_are_404(db, app, api, make_person, community, mail_settings,
                                                          sink):
    owner = await make_person("Owner")
    made = await community(owner, "Team", access="restricted")
    client = await api(owner)
    response = await invite(client, made.id, emails=["a@partner.example", "b@partner.example"])
    first, second = response.json()["new_guests"]
    jobs = await deferred(db, "guest_invitation")
    for job in jobs:
        await guests.send_invitation(db, mail_settings, job["invitation_id"])
    token_a = re.search(r"/invitations/([\w-]+)", body(sink.to("a@partner.example")[0])).group(1)
    token_b = re.search(r"/invitations/([\w-]+)", body(sink.to("b@partner.example")[0])).group(1)
    row = await db.scalar(select(GuestInvitation).where(GuestInvitation.person_id == first))
    row.expires_at = row.created_at - dt.timedelta(seconds=1)
    await db.flush()
    assert (await app_client_get(app, f"/invitations/{token_a}")).status_code == 404
    assert (await client.delete(f"/api/v1/communities/{made.id}/members/{second}")).status_code == 204
    assert (await app_client_get(app, f"/invitations/{token_b}")).status_code == 404
    assert (await app_client_get(app, "/invitations/" + "x" * 43)).status_code == 404
    assert (await app_client_get(app, "/invitations/short")).status_code == 404
    # Inviting the same address again sends a fresh link; the old one stops working.
    await client.post(f"/api/v1/communities/{made.id}/members", json={"person_ids": [second]})
    response = await invite(client, made.id, emails=["b@partner.example"])
    assert response.json()["resent"] == [second]


def _client(app):
    import httpx

    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver",
                             headers={"Accept-Language": "en"})


async def app_client_get(app, path: str):
    async with _client(app) as client:
        return await client.get(path)
