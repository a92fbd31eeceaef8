"""Guests (external people) see their host and themselves, nothing the host hid, and no one else."""

from __future__ import annotations

import pytest

from socius.people.models import Role


@pytest.fixture
async def host(make_person):
    """An employee with a manager and a team, who hides some fields from guests."""
    boss = await make_person("Bruno Bigboss", username="bruno", title="Managing Director")
    host = await make_person(
        "Helen Host", username="helen", title="Account Manager", manager_id=boss.id, department="Sales",
        location="Taipei 101", phone="+886 2 8101 0000", time_zone="Asia/Taipei",
        about_md="My *private* notes", links=[{"label": "Wiki", "url": "https://wiki.example.com/helen"}],
        guest_hidden=["email", "phone", "about_md", "links", "manager"],
    )
    await make_person("Tina Teammate", username="tina", manager_id=host.id)
    return host


@pytest.fixture
async def visitor(make_person, host):
    return await make_person("Victor Visitor", role=Role.GUEST, username="victor", manager_id=host.id,
                             department="Partner Co.")


@pytest.fixture
async def stranger(make_person):
    return await make_person("Sandra Stranger", username="sandra", department="Sales")


async def test_guest_sees_their_host_and_themselves(client, host, visitor, login, api):
    await login(client, visitor)
    assert "Helen Host" in (await client.get(f"/people/{host.id}")).text
    assert "Victor Visitor" in (await client.get(f"/people/{visitor.id}")).text
    guest_api = await api(visitor)
    assert (await guest_api.get(f"/api/v1/people/{host.id}")).json()["display_name"] == "Helen Host"
    assert (await guest_api.get(f"/api/v1/people/{visitor.id}")).json()["display_name"] == "Victor Visitor"


async def test_guest_gets_not_found_for_anyone_else(client, host, visitor, stranger, login, api):
    await login(client, visitor)
    page = await client.get(f"/people/{stranger.id}")
    assert page.status_code == 404
    assert "Sandra Stranger" not in page.text
    response = await (await api(visitor)).get(f"/api/v1/people/{stranger.id}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    # The same answer as for someone who does not exist at all.
    missing = await (await api(visitor)).get("/api/v1/people/987654321")
    assert missing.status_code == 404 and missing.json() == response.json()


async def test_guest_directory_search_lists_only_host_and_self(client, host, visitor, stranger, login, api):
    guest_api = await api(visitor)
    everyone = (await guest_api.get("/api/v1/people")).json()
    assert sorted(p["id"] for p in everyone["items"]) == sorted([host.id, visitor.id])
    assert (await guest_api.get("/api/v1/people?q=sandra")).json()["items"] == []
    assert (await guest_api.get("/api/v1/people?q=tina")).json()["items"] == []
    in_sales = (await guest_api.get("/api/v1/people?department=Sales")).json()["items"]
    assert [p["id"] for p in in_sales] == [host.id]

    await login(client, visitor)
    page = await client.get("/people?q=s")
    assert page.status_code == 200
    for name in ("Sandra Stranger", "Tina Teammate", "Bruno Bigboss"):
        assert name not in page.text
    listing = await client.get("/people")
    assert "Helen Host" in listing.text and "Sandra Stranger" not in listing.text


async def test_fields_hidden_from_guests_are_absent_for_guests(client, host, visitor, login, api):
    body = (await (await api(visitor)).get(f"/api/v1/people/{host.id}")).json()
    for field in ("email", "phone", "about_md", "about_html", "manager", "guest_hidden"):
        assert body[field] is None, field
    assert body["links"] == []
    assert body["title"] == "Account Manager" and body["department"] == "Sales"

    await login(client, visitor)
    page = await client.get(f"/people/{host.id}")
    assert page.status_code == 200
    for secret in ("helen@example.com", "+886 2 8101 0000", "private", "wiki.example.com", "Bruno Bigboss",
                   "Tina Teammate"):
        assert secret not in page.text, secret
    assert "Account Manager" in page.text and "Taipei 101" in page.text


async def test_members_see_what_is_hidden_from_guests(client, host, stranger, login, api):
    body = (await (await api(stranger)).get(f"/api/v1/people/{host.id}")).json()
    assert body["email"] == "helen@example.com"
    assert body["phone"] == "+886 2 8101 0000"
    assert "<em>private</em>" in body["about_html"]
    assert body["links"][0]["url"] == "https://wiki.example.com/helen"
    assert body["manager"]["display_name"] == "Bruno Bigboss"

    await login(client, stranger)
    page = await client.get(f"/people/{host.id}")
    for shown in ("helen@example.com", "+886 2 8101 0000", "<em>private</em>", "wiki.example.com", "Bruno Bigboss",
                  "Tina Teammate"):
        assert shown in page.text, shown


async def test_guests_own_hidden_fields_are_visible_to_members(visitor, stranger, api):
    await (await api(visitor)).patch(f"/api/v1/people/{visitor.id}", json={"phone": "+1 555 0100",
                                                                          "guest_hidden": ["phone"]})
    body = (await (await api(stranger)).get(f"/api/v1/people/{visitor.id}")).json()
    assert body["phone"] == "+1 555 0100"
    own = (await (await api(visitor)).get(f"/api/v1/people/{visitor.id}")).json()
    assert own["phone"] == "+1 555 0100" and own["guest_hidden"] == ["phone"]


async def test_guest_gets_not_found_for_the_hosts_edit_form(client, host, visitor, login, api):
    token = await login(client, visitor)
    assert (await client.get(f"/people/{host.id}/edit")).status_code == 404
    posted = await client.post(f"/people/{host.id}/edit",
                               data={"csrf_token": token, "display_name": "Helen Host", "title": "Hacked"})
    assert posted.status_code == 404
    patched = await (await api(visitor)).patch(f"/api/v1/people/{host.id}", json={"title": "Hacked"})
    assert patched.status_code == 404
    assert (await (await api(host)).get(f"/api/v1/people/{host.id}")).json()["title"] == "Account Manager"


async def test_guest_can_edit_their_own_profile(visitor, api):
    guest_api = await api(visitor)
    response = await guest_api.patch(f"/api/v1/people/{visitor.id}", json={"title": "Consultant"})
    assert response.status_code == 200 and response.json()["title"] == "Consultant"


async def test_guest_cannot_see_the_org_chart(client, host, visitor, login):
    await login(client, visitor)
    for path in ("/orgchart", f"/orgchart?root={host.id}", f"/orgchart/{host.id}/reports"):
        response = await client.get(path)
        assert response.status_code in (403, 404), (path, response.status_code)
        assert "Tina Teammate" not in response.text and "Bruno Bigboss" not in response.text
    assert 'href="/orgchart"' not in (await client.get("/people")).text


async def test_guest_is_marked_external(client, visitor, stranger, login, api):
    assert (await (await api(stranger)).get(f"/api/v1/people/{visitor.id}")).json()["external"] is True
    assert (await (await api(visitor)).get(f"/api/v1/people/{visitor.id}")).json()["external"] is True
    assert (await (await api(stranger)).get(f"/api/v1/people/{stranger.id}")).json()["external"] is False
    await login(client, stranger)
    page = await client.get(f"/people/{visitor.id}")
    assert '<span class="badge external">External</span>' in page.text
