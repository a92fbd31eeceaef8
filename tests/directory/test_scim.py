"""SCIM 2.0 through HTTP, the way Entra ID and Okta provision users (quirks included)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, update

from socius.accounts.models import WebSession
from socius.directory import service
from socius.directory.models import DirectoryIdentity
from socius.people.models import Person

SCIM_TYPE = "application/scim+json"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


async def _token(db, name: str) -> str:
    source = await service.create_source(db, None, name=name, kind="scim", link_by=["email"])
    raw = await service.issue_scim_token(db, source)
    await db.flush()
    return raw


@pytest.fixture
async def scim(client, db):
    """A client authenticated as one SCIM source (Entra ID)."""
    client.headers["Authorization"] = f"Bearer {await _token(db, 'Entra ID')}"
    client.headers["Content-Type"] = SCIM_TYPE
    return client


@pytest.fixture
async def other(app, db):
    """A client of another SCIM source (Okta)."""
    import httpx

    token = await _token(db, "Okta")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver",
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": SCIM_TYPE}) as c:
        yield c


def user_payload(user_name: str = "bjensen@example.com", **extra) -> dict:
    payload = {
        "schemas": [USER, ENTERPRISE],
        "userName": user_name,
        "externalId": extra.pop("externalId", user_name.split("@")[0]),
        "active": True,
        "displayName": "Barbara Jensen",
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "emails": [{"type": "work", "value": user_name, "primary": True}],
        "title": "Engineer",
        ENTERPRISE: {"employeeNumber": "E-100", "department": "Research"},
    }
    payload.update(extra)
    return payload


async def create(client, **kwargs) -> dict:
    response = await client.post("/scim/v2/Users", json=user_payload(**kwargs))
    assert response.status_code == 201, response.text
    return response.json()


def assert_error(response, status: int, scim_type: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(SCIM_TYPE)
    body = response.json()
    assert body["schemas"] == [ERROR]
    assert body["status"] == str(status)
    assert body.get("scimType") == scim_type
    assert body["detail"]
    return body


async def person_of(db, scim_id: str) -> Person:
    identity = await db.get(DirectoryIdentity, int(scim_id))
    await db.refresh(identity)
    person = await db.get(Person, identity.person_id)
    await db.refresh(person)
    return person


# --- discovery and authentication ---------------------------------------------------------------------

async def test_discovery(scim):
    config = (await scim.get("/scim/v2/ServiceProviderConfig")).json()
    assert config["patch"]["supported"] is True and config["filter"]["supported"] is True
    assert config["etag"]["supported"] is True
    types = (await scim.get("/scim/v2/ResourceTypes")).json()
    assert {r["name"] for r in types["Resources"]} == {"User", "Group"}
    user_type = next(r for r in types["Resources"] if r["name"] == "User")
    assert user_type["schemaExtensions"][0]["schema"] == ENTERPRISE
    schemas = (await scim.get("/scim/v2/Schemas")).json()
    assert {USER, ENTERPRISE} <= {s["id"] for s in schemas["Resources"]}
    response = await scim.get(f"/scim/v2/Schemas/{ENTERPRISE}")
    assert response.status_code == 200 and response.headers["content-type"].startswith(SCIM_TYPE)
    assert_error(await scim.get("/scim/v2/Schemas/urn:nothing"), 404)


@pytest.mark.parametrize("header", [None, "Bearer nope", "Basic dXNlcjpwYXNz", "Bearer "])
async def test_a_request_without_a_valid_token_is_refused(client, db, header):
    await _token(db, "Entra ID")
    headers = {"Authorization": header} if header else {}
    response = await client.get("/scim/v2/Users", headers=headers)
    assert_error(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_a_disabled_source_is_refused(scim, db):
    source = await service.source_by_name(db, "Entra ID")
    source.enabled = False
    await db.flush()
    assert_error(await scim.get("/scim/v2/Users"), 401)


# --- create, get, replace ---------------------------------------------------------------------------------

async def test_create_then_get(scim, db):
    response = await scim.post("/scim/v2/Users", json=user_payload())
    assert response.status_code == 201, response.text
    assert response.headers["content-type"].startswith(SCIM_TYPE)
    body = response.json()
    assert body["userName"] == "bjensen@example.com" and body["externalId"] == "bjensen"
    assert body[ENTERPRISE]["employeeNumber"] == "E-100"
    assert body["meta"]["resourceType"] == "User" and body["meta"]["version"] == 'W/"1"'
    assert body["meta"]["location"].endswith(f"/scim/v2/Users/{body['id']}")
    assert response.headers["location"] == body["meta"]["location"]
    assert response.headers["etag"] == 'W/"1"'

    person = await person_of(db, body["id"])
    assert (person.display_name, person.email, person.title, person.department, person.employee_number) == \
        ("Barbara Jensen", "bjensen@example.com", "Engineer", "Research", "E-100")
    assert person.name_latin == "Barbara Jensen"

    got = await scim.get(f"/scim/v2/Users/{body['id']}")
    assert got.status_code == 200
    assert got.json()["userName"] == "bjensen@example.com" and got.json()["id"] == body["id"]
    only = (await scim.get(f"/scim/v2/Users/{body['id']}", params={"attributes": "userName"})).json()
    assert "userName" in only and "title" not in only and only["id"] == body["id"]
    without = (await scim.get(f"/scim/v2/Users/{body['id']}", params={"excludedAttributes": "emails"})).json()
    assert "emails" not in without and "userName" in without


async def test_what_a_write_answers_is_what_a_read_answers(scim):
    # Writes answer with the resource as the client sent it (not read back): it must be what a GET returns.
    boss = await create(scim, user_name="boss@example.com")
    payload = user_payload(password="Okta-sends-one-1", phoneNumbers=[{"type": "work", "value": "+886 2 1234 5678"}])
    payload["name"]["formatted"] = "Ms. Barbara J Jensen"
    payload[ENTERPRISE]["manager"] = boss["id"]
    created = await scim.post("/scim/v2/Users", json=payload)
    assert created.status_code == 201, created.text
    user_id = created.json()["id"]

    async def answers_as_read(response, version: int) -> dict:
        assert response.status_code in (200, 201), response.text
        read = await scim.get(f"/scim/v2/Users/{user_id}")
        assert read.json() == response.json()
        assert read.headers["etag"] == response.headers["etag"] == f'W/"{version}"'
        assert "password" not in response.json()
        return read.json()

    await answers_as_read(created, 1)
    await answers_as_read(await scim.put(f"/scim/v2/Users/{user_id}", json={**payload, "title": "Principal Engineer"}),
                          2)
    body = await answers_as_read(await scim.patch(f"/scim/v2/Users/{user_id}", json={
        "schemas": [PATCH], "Operations": [{"op": "Replace", "path": "displayName", "value": "Babs"}]}), 3)
    assert (body["displayName"], body["title"], body[ENTERPRISE]["manager"]["value"]) == \
        ("Babs", "Principal Engineer", boss["id"])


async def test_plain_json_is_accepted_and_other_content_types_are_not(scim):
    response = await scim.post("/scim/v2/Users", json=user_payload(), headers={"Content-Type": "application/json"})
    assert response.status_code == 201
    response = await scim.post("/scim/v2/Users", content="userName=x", headers={"Content-Type": "text/plain"})
    assert_error(response, 415, "invalidSyntax")


async def test_manager_is_resolved_by_scim_id(scim, db):
    boss = await create(scim, user_name="boss@example.com")
    payload = user_payload("worker@example.com")
    payload[ENTERPRISE]["manager"] = {"value": boss["id"]}  # Entra sends no $ref
    response = await scim.post("/scim/v2/Users", json=payload)
    assert response.status_code == 201, response.text
    worker = await person_of(db, response.json()["id"])
    assert worker.manager_id == (await person_of(db, boss["id"])).id
    assert response.json()[ENTERPRISE]["manager"]["value"] == boss["id"]


async def test_replace(scim, db):
    user = await create(scim)
    payload = user_payload(title="Principal Engineer", displayName="Barbara J.")
    payload[ENTERPRISE] = {"department": "Platform"}
    response = await scim.put(f"/scim/v2/Users/{user['id']}", json=payload)
    assert response.status_code == 200, response.text
    assert response.json()["title"] == "Principal Engineer"
    assert response.headers["etag"] == 'W/"2"'
    person = await person_of(db, user["id"])
    assert (person.title, person.department, person.display_name) == ("Principal Engineer", "Platform", "Barbara J.")
    # The employee number the source no longer gives is cleared.
    assert person.employee_number is None
    assert ENTERPRISE not in response.json() or "employeeNumber" not in response.json()[ENTERPRISE]


async def test_existing_person_is_linked_and_hand_edits_survive(scim, db, make_person):
    someone = await make_person("Barbara", email="bjensen@example.com")
    from socius.people import service as people

    await people.update_profile(db, someone.principal, someone.id, {"title": "Chief Tinkerer"})
    await db.flush()
    user = await create(scim)
    person = await person_of(db, user["id"])
    assert person.id == someone.id
    assert await db.scalar(select(Person.id).where(Person.email == "bjensen@example.com")) == someone.id
    assert person.title == "Chief Tinkerer"

    response = await scim.patch(f"/scim/v2/Users/{user['id']}", json={
        "schemas": [PATCH], "Operations": [{"op": "replace", "path": "title", "value": "Directory Title"}]})
    assert response.status_code == 200, response.text
    assert response.json()["title"] == "Directory Title"  # the resource as the source sent it
    person = await person_of(db, user["id"])
    assert person.title == "Chief Tinkerer"  # the profile as its owner wrote it
    assert person.department == "Research"


# --- PATCH, with Entra ID and Okta's quirks ---------------------------------------------------------------

async def test_patch_entra_style(scim, db):
    boss = await create(scim, user_name="boss@example.com")
    user = await create(scim)
    response = await scim.patch(f"/scim/v2/Users/{user['id']}", json={"schemas": [PATCH], "Operations": [
        {"op": "Replace", "path": "displayName", "value": "Babs Jensen"},
        {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "babs@example.com"},
        {"op": "Add", "path": f"{ENTERPRISE}:manager", "value": boss["id"]},
        {"op": "Replace", "path": f"{ENTERPRISE}:department", "value": "Operations"},
        {"op": "Add", "path": 'phoneNumbers[type eq "work"].value', "value": "+886 2 1234 5678"},
    ]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["displayName"] == "Babs Jensen" and body["emails"][0]["value"] == "babs@example.com"
    assert body[ENTERPRISE]["manager"]["value"] == boss["id"]
    person = await person_of(db, user["id"])
    assert (person.display_name, person.email, person.department, person.phone) == \
        ("Babs Jensen", "babs@example.com", "Operations", "+886 2 1234 5678")
    assert person.manager_id == (await person_of(db, boss["id"])).id

    response = await scim.patch(f"/scim/v2/Users/{user['id']}", json={"schemas": [PATCH], "Operations": [
        {"op": "Remove", "path": "title"},
        {"op": "Remove", "path": f"{ENTERPRISE}:manager"},
    ]})
    assert response.status_code == 200, response.text
    assert "title" not in response.json()
    person = await person_of(db, user["id"])
    assert person.title is None and person.manager_id is None


async def test_patch_active_as_string_and_no_path_replace(scim, db):
    user = await create(scim)
    response = await scim.patch(f"/scim/v2/Users/{user['id']}", json={"schemas": [PATCH], "Operations": [
        {"op": "Replace", "path": "active", "value": "False"}]})
    assert response.status_code == 200, response.text
    assert response.json()["active"] is False
    assert (await person_of(db, user["id"])).deactivated_at is not None

    # Okta: a replace without a path, with an object of attributes.
    response = await scim.patch(f"/scim/v2/Users/{user['id']}", json={"schemas": [PATCH], "Operations": [
        {"op": "replace", "value": {"active": True, "title": "Lead", "name.givenName": "Babs"}}]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["active"] is True and body["title"] == "Lead" and body["name"]["givenName"] == "Babs"
    person = await person_of(db, user["id"])
    assert person.deactivated_at is None and person.title == "Lead" and person.name_latin == "Babs Jensen"


async def test_patch_errors(scim):
    user = await create(scim)
    url = f"/scim/v2/Users/{user['id']}"
    assert_error(await scim.patch(url, json={"schemas": [PATCH], "Operations": [
        {"op": "replace", "path": "favouriteColour", "value": "red"}]}), 400, "invalidPath")
    assert_error(await scim.patch(url, json={"schemas": [PATCH], "Operations": [
        {"op": "jump", "path": "title", "value": "x"}]}), 400, "invalidValue")
    assert_error(await scim.patch(url, json={"schemas": [PATCH], "Operations": [
        {"op": "replace", "path": "active", "value": "perhaps"}]}), 400, "invalidValue")
    assert_error(await scim.patch(url, json={"schemas": [PATCH], "Operations": []}), 400, "invalidValue")


# --- delete = deactivate ----------------------------------------------------------------------------------

async def test_delete_deactivates_and_keeps_the_person(scim, db, client, make_person, login):
    someone = await make_person("Barbara", email="bjensen@example.com")
    user = await create(scim)
    assert (await person_of(db, user["id"])).id == someone.id

    import httpx

    async with httpx.AsyncClient(transport=client._transport, base_url="http://testserver",
                                 headers={"Accept-Language": "en"}) as browser:
        await login(browser, someone)
        assert await db.scalar(select(WebSession.token_hash).where(WebSession.person_id == someone.id)) is not None
        response = await scim.delete(f"/scim/v2/Users/{user['id']}")
        assert response.status_code == 204
        person = await person_of(db, user["id"])
        assert person.deactivated_at is not None and person.display_name == "Barbara Jensen"
        assert await db.scalar(select(WebSession.token_hash).where(WebSession.person_id == someone.id)) is None

    assert_error(await scim.get(f"/scim/v2/Users/{user['id']}"), 404)
    assert_error(await scim.delete(f"/scim/v2/Users/{user['id']}"), 404)
    listed = (await scim.get("/scim/v2/Users", params={"filter": 'userName eq "bjensen@example.com"'})).json()
    assert listed["totalResults"] == 0

    # Provisioned again: the same identity and person come back.
    again = await create(scim)
    assert again["id"] == user["id"]
    person = await person_of(db, again["id"])
    assert person.id == someone.id and person.deactivated_at is None


# --- list and filter --------------------------------------------------------------------------------------

async def test_filters(scim):
    a = await create(scim, user_name="alice@example.com")
    b = await create(scim, user_name="bob@example.com")
    await create(scim, user_name="carol@example.com")

    async def ids(filter_: str) -> list[str]:
        response = await scim.get("/scim/v2/Users", params={"filter": filter_})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:ListResponse"]
        assert body["totalResults"] == len(body.get("Resources", []))
        return sorted(r["id"] for r in body.get("Resources", []))

    assert await ids('userName eq "ALICE@example.com"') == [a["id"]]
    assert await ids('externalId eq "bob"') == [b["id"]]
    assert await ids('externalId eq "BOB"') == []  # externalId is case-exact
    assert await ids('emails.value eq "bob@example.com"') == [b["id"]]
    assert await ids('emails[type eq "work" and value eq "alice@example.com"]') == [a["id"]]
    assert await ids('userName eq "alice@example.com" or userName eq "bob@example.com"') == sorted([a["id"], b["id"]])
    assert await ids('userName sw "a" and active eq true') == [a["id"]]
    assert await ids(f'id eq "{a["id"]}"') == [a["id"]]
    assert await ids('userName eq "nobody@example.com"') == []


@pytest.mark.parametrize("filter_", ['userName eq', 'userName zz "x"', '(userName eq "x"', 'favourite eq "x"'])
async def test_invalid_filters(scim, filter_):
    assert_error(await scim.get("/scim/v2/Users", params={"filter": filter_}), 400, "invalidFilter")


async def test_pagination_sorting_and_attributes(scim):
    for name in ("dave", "alice", "carol", "bob", "eve"):
        await create(scim, user_name=f"{name}@example.com")
    page = (await scim.get("/scim/v2/Users", params={"startIndex": 2, "count": 2})).json()
    assert page["totalResults"] == 5 and page["startIndex"] == 2 and page["itemsPerPage"] == 2
    assert [r["userName"] for r in page["Resources"]] == ["alice@example.com", "carol@example.com"]

    ordered = (await scim.get("/scim/v2/Users", params={"sortBy": "userName", "count": 3})).json()
    assert [r["userName"].split("@")[0] for r in ordered["Resources"]] == ["alice", "bob", "carol"]
    backwards = (await scim.get("/scim/v2/Users", params={"sortBy": "userName", "sortOrder": "descending",
                                                          "attributes": "userName"})).json()
    assert [r["userName"].split("@")[0] for r in backwards["Resources"]] == ["eve", "dave", "carol", "bob", "alice"]
    assert set(backwards["Resources"][0]) == {"schemas", "id", "userName"}

    counted = (await scim.get("/scim/v2/Users", params={"count": 0})).json()
    assert counted["totalResults"] == 5 and not counted.get("Resources")


async def test_search_by_post(scim):
    a = await create(scim, user_name="alice@example.com")
    response = await scim.post("/scim/v2/Users/.search", json={
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        "filter": 'userName eq "alice@example.com"'})
    assert response.status_code == 200, response.text
    assert [r["id"] for r in response.json()["Resources"]] == [a["id"]]


# --- versions ---------------------------------------------------------------------------------------------

async def test_if_match(scim):
    user = await create(scim)
    url = f"/scim/v2/Users/{user['id']}"
    stale = {"If-Match": 'W/"1"'}
    ok = await scim.patch(url, headers=stale, json={"schemas": [PATCH], "Operations": [
        {"op": "replace", "path": "title", "value": "Lead"}]})
    assert ok.status_code == 200 and ok.headers["etag"] == 'W/"2"'
    assert_error(await scim.patch(url, headers=stale, json={"schemas": [PATCH], "Operations": [
        {"op": "replace", "path": "title", "value": "Boss"}]}), 412)
    assert_error(await scim.put(url, headers=stale, json=user_payload()), 412)
    assert_error(await scim.delete(url, headers=stale), 412)
    assert (await scim.delete(url, headers={"If-Match": 'W/"2"'})).status_code == 204


# --- bad input --------------------------------------------------------------------------------------------

async def test_bad_input(scim):
    url = "/scim/v2/Users"
    assert_error(await scim.post(url, content=b"{not json"), 400, "invalidSyntax")
    assert_error(await scim.post(url, content=b"[1, 2]"), 400, "invalidSyntax")
    assert_error(await scim.post(url, content=b"\xff\xfe"), 400, "invalidSyntax")
    assert_error(await scim.post(url, json=user_payload(favouriteColour="red")), 400, "invalidSyntax")
    assert_error(await scim.post(url, json={"schemas": [USER], "displayName": "No Name"}), 400, "invalidValue")
    assert_error(await scim.post(url, json=user_payload(active="perhaps")), 400, "invalidValue")
    bad_phone = user_payload(phoneNumbers=[{"type": "work", "value": "call me maybe"}])
    assert_error(await scim.post(url, json=bad_phone), 400, "invalidValue")
    assert_error(await scim.get("/scim/v2/Users/999999999"), 404)
    assert_error(await scim.get("/scim/v2/Users/not-a-number"), 404)
    assert_error(await scim.get("/scim/v2/Users/99999999999999999999999"), 404)
    assert_error(await scim.get("/scim/v2/Nothing"), 404)


async def test_duplicate_user_name_and_external_id(scim):
    await create(scim)
    duplicate = user_payload("BJensen@example.com", externalId="someone-else")
    assert_error(await scim.post("/scim/v2/Users", json=duplicate), 409, "uniqueness")
    assert_error(await scim.post("/scim/v2/Users", json=user_payload("other@example.com", externalId="bjensen")),
                 409, "uniqueness")
    other = await create(scim, user_name="other@example.com")
    assert_error(await scim.patch(f"/scim/v2/Users/{other['id']}", json={"schemas": [PATCH], "Operations": [
        {"op": "replace", "path": "userName", "value": "bjensen@example.com"}]}), 409, "uniqueness")


async def test_sources_are_isolated(scim, other, db):
    user = await create(scim)
    url = f"/scim/v2/Users/{user['id']}"
    assert_error(await other.get(url), 404)
    assert_error(await other.put(url, json=user_payload()), 404)
    assert_error(await other.patch(url, json={"schemas": [PATCH], "Operations": [
        {"op": "replace", "path": "title", "value": "Hijacked"}]}), 404)
    assert_error(await other.delete(url), 404)
    assert (await other.get("/scim/v2/Users")).json()["totalResults"] == 0
    listed = await other.get("/scim/v2/Users", params={"filter": 'userName eq "bjensen@example.com"'})
    assert listed.json()["totalResults"] == 0
    # The same userName is another source's business: it gets an identity of its own (linked by e-mail).
    mine = await create(other)
    assert mine["id"] != user["id"]
    assert (await person_of(db, mine["id"])).deactivated_at is None
    assert (await scim.get(url)).json()["title"] == "Engineer"


async def test_a_user_matching_an_administrator_is_not_taken_over(scim, db, make_person):
    from socius.people.models import Role

    admin = await make_person("Ada", role=Role.ADMINISTRATOR, email="ada@example.com")
    response = await scim.post("/scim/v2/Users", json=user_payload("ada@example.com", title="Intern"))
    assert_error(response, 409, "uniqueness")
    await db.refresh(admin.person)
    assert admin.person.title is None
    from sqlalchemy import select

    from socius.directory.models import DirectoryReview
    review = await db.scalar(select(DirectoryReview).where(DirectoryReview.person_id == admin.id))
    assert review is not None and review.reason == "administrator_match"  # kept for an administrator


# --- groups (departments) ---------------------------------------------------------------------------------

GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"


async def test_groups_are_departments(scim, db):
    alice = await create(scim, user_name="alice@example.com")
    bob = await create(scim, user_name="bob@example.com")
    listed = (await scim.get("/scim/v2/Groups")).json()
    assert [g["displayName"] for g in listed["Resources"]] == ["Research"]
    assert {m["value"] for m in listed["Resources"][0]["members"]} == {alice["id"], bob["id"]}

    # Entra ID: look the group up, create it, then patch its members in.
    found = (await scim.get("/scim/v2/Groups", params={"filter": 'displayName eq "Sales"',
                                                       "excludedAttributes": "members"})).json()
    assert found["totalResults"] == 0
    response = await scim.post("/scim/v2/Groups", json={"schemas": [GROUP], "displayName": "Sales",
                                                        "members": [{"value": alice["id"]}]})
    assert response.status_code == 201, response.text
    sales = response.json()
    assert sales["displayName"] == "Sales" and [m["value"] for m in sales["members"]] == [alice["id"]]
    assert (await person_of(db, alice["id"])).department == "Sales"
    assert (await scim.get(f"/scim/v2/Users/{alice['id']}")).json()[ENTERPRISE]["department"] == "Sales"

    response = await scim.patch(f"/scim/v2/Groups/{sales['id']}", json={"schemas": [PATCH], "Operations": [
        {"op": "Add", "path": "members", "value": [{"value": bob["id"]}]},
        {"op": "Remove", "path": f'members[value eq "{alice["id"]}"]'},
    ]})
    assert response.status_code == 200, response.text
    assert [m["value"] for m in response.json()["members"]] == [bob["id"]]
    assert (await person_of(db, alice["id"])).department is None
    assert (await person_of(db, bob["id"])).department == "Sales"

    got = (await scim.get(f"/scim/v2/Groups/{sales['id']}")).json()
    assert got["displayName"] == "Sales"
    assert_error(await scim.post("/scim/v2/Groups", json={"schemas": [GROUP], "displayName": "Sales"}),
                 409, "uniqueness")
    assert (await scim.delete(f"/scim/v2/Groups/{sales['id']}")).status_code == 204
    assert (await person_of(db, bob["id"])).department is None
    assert_error(await scim.get(f"/scim/v2/Groups/{sales['id']}"), 404)
    assert_error(await scim.get("/scim/v2/Groups/%%%"), 404)
    assert_error(await scim.post("/scim/v2/Groups", json={"schemas": [GROUP], "displayName": "X",
                                                          "members": [{"value": "424242"}]}), 400, "invalidValue")


async def test_okta_style_payloads(scim, db):
    """Okta sends a password and the read-only attributes back; neither is stored nor refused."""
    payload = user_payload("okta@example.com", password="S3cret!pass", locale="en-US")
    response = await scim.post("/scim/v2/Users", json=payload)
    assert response.status_code == 201, response.text
    user = response.json()
    assert "password" not in user
    identity = await db.get(DirectoryIdentity, int(user["id"]))
    await db.refresh(identity)
    assert "password" not in identity.raw["scim"]

    replacement = {**user, "title": "Okta Title", "password": "An0ther!pass"}
    response = await scim.put(f"/scim/v2/Users/{user['id']}", json=replacement)
    assert response.status_code == 200, response.text
    assert response.json()["title"] == "Okta Title" and response.json()["locale"] == "en-US"
    await db.refresh(identity)
    assert "password" not in identity.raw["scim"]


async def test_hostile_input_never_fails_the_server(scim):
    user = await create(scim)
    assert_error(await scim.post("/scim/v2/Users", json=user_payload("nul\u0000@example.com")), 400, "invalidValue")
    assert_error(await scim.post("/scim/v2/Users", content=b"[" * 100_000 + b"]" * 100_000), 400, "invalidSyntax")
    deep = b'{"a":' * 900 + b"1" + b"}" * 900
    assert_error(await scim.post("/scim/v2/Users", content=deep), 400, "invalidSyntax")
    assert_error(await scim.get("/scim/v2/Users", params={"filter": 'userName eq "a\u0000"'}), 400, "invalidValue")
    assert_error(await scim.post("/scim/v2/Users", json=user_payload("x" * 500 + "@example.com",
                                                                      externalId=None)), 400, "invalidValue")
    far = await scim.get("/scim/v2/Users", params={"startIndex": 10**30, "count": 10**30})
    assert far.status_code == 200 and far.json()["totalResults"] == 1 and not far.json().get("Resources")
    assert_error(await scim.get("/scim/v2/Users", params={"count": "many"}), 400, "invalidValue")
    nul_group = "bnVsAA"  # base64 of "nul\0"
    assert_error(await scim.get(f"/scim/v2/Groups/{nul_group}"), 404)
    assert (await scim.get(f"/scim/v2/Users/{user['id']}")).status_code == 200


async def test_a_user_created_inactive_cannot_sign_in(scim, db, make_person):
    someone = await make_person("Barbara", email="bjensen@example.com")
    user = await create(scim, active=False)
    assert user["active"] is False
    person = await person_of(db, user["id"])
    assert person.id == someone.id and person.deactivated_at is not None


async def test_group_members_removed_by_value_and_renamed(scim, db):
    alice = await create(scim, user_name="alice@example.com")
    bob = await create(scim, user_name="bob@example.com")
    research = (await scim.get("/scim/v2/Groups", params={"filter": 'displayName eq "Research"'})).json()
    group_id = research["Resources"][0]["id"]
    # Entra ID removes a member by naming it in the value.
    response = await scim.patch(f"/scim/v2/Groups/{group_id}", json={"schemas": [PATCH], "Operations": [
        {"op": "Remove", "path": "members", "value": [{"value": alice["id"]}]}]})
    assert response.status_code == 200, response.text
    assert [m["value"] for m in response.json()["members"]] == [bob["id"]]
    response = await scim.patch(f"/scim/v2/Groups/{group_id}", json={"schemas": [PATCH], "Operations": [
        {"op": "Replace", "path": "displayName", "value": "Research & Development"}]})
    assert response.status_code == 200, response.text
    assert response.json()["displayName"] == "Research & Development"
    assert (await person_of(db, bob["id"])).department == "Research & Development"
    assert (await person_of(db, alice["id"])).department is None


async def test_a_chinese_name_is_the_native_name(scim, db):
    user = await create(scim, user_name="meiling@example.com", displayName=None,
                        name={"givenName": "美玲", "familyName": "陳"})
    person = await person_of(db, user["id"])
    assert (person.name_native, person.name_latin, person.display_name) == ("陳美玲", None, "陳美玲")


# --- filters and sorting in SQL -----------------------------------------------------------------------------

async def _people(client, *specs) -> dict[str, dict]:
    """Create users from (key, userName, extra) and return them by key."""
    out = {}
    for key, user_name, extra in specs:
        out[key] = await create(client, user_name=user_name, **extra)
    return out


async def _listed(client, **params) -> dict:
    response = await client.get("/scim/v2/Users", params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def _ids(client, filter_: str) -> set[str]:
    body = await _listed(client, filter=filter_, count=500)
    assert body["totalResults"] == len(body.get("Resources", []))
    return {r["id"] for r in body.get("Resources", [])}


def _matching(users: list[dict], filter_: str) -> set[str]:
    """The reference answer: scim2-models' own evaluation of the filter over the resources as served."""
    from scim2_models import Context, EnterpriseUser, SearchRequest, User

    search = SearchRequest[User[EnterpriseUser]].model_validate({"filter": filter_}, scim_ctx=Context.SEARCH_REQUEST)
    return {u["id"] for u in users if search.filter.match(User[EnterpriseUser].model_validate(u))}


FILTERS = [
    # (filter, the keys of the Entra users it must return; "{x}" is replaced by the Okta alice's id)
    ('userName eq "Alice@Example.com"', {"alice"}),
    ('userName eq "alice@example.com" or userName eq "BOB@example.com"', {"alice", "bob"}),
    ('externalId eq "alice"', {"alice"}),
    ('externalId eq "ALICE"', set()),
    ('emails[type eq "work"].value eq "ALICE@example.com"', {"alice"}),
    ('emails[type eq "home"].value eq "alice.home@example.org"', {"alice"}),
    ('emails[type eq "work"].value eq "alice.home@example.org"', set()),
    ('emails.value eq "alice.home@example.org"', {"alice"}),
    ('emails eq "bob@example.com"', {"bob"}),
    ('emails[type eq "work" and value eq "carol@example.com"]', {"carol"}),
    ('emails[type eq "home"]', {"alice"}),
    ('not (emails[type eq "home"])', {"bob", "carol", "dave", "eve"}),
    ('emails.value co "example.org"', {"alice"}),
    ('userName sw "a" and active eq true', {"alice"}),
    ('userName sw "A"', {"alice"}),
    ('userName ew "@example.com" and not (userName sw "b")', {"alice", "carol", "dave", "eve"}),
    ('userName co "AR"', {"carol"}),
    ('userName gt "carol@example.com"', {"dave", "eve"}),
    ('userName le "bob@example.com"', {"alice", "bob"}),
    ('userName ne "alice@example.com"', {"bob", "carol", "dave", "eve"}),
    ('displayName eq "CAROL C."', {"carol"}),
    ('title pr', {"alice", "bob", "carol", "dave"}),
    ('not (title pr)', {"eve"}),
    ('title ne "Engineer"', {"dave", "eve"}),
    ('active eq false', {"dave"}),
    ('active eq false or externalId eq "eve"', {"dave", "eve"}),
    (f'{ENTERPRISE}:department eq "research"', {"alice", "bob", "carol", "dave"}),
    (f'{ENTERPRISE}:employeeNumber pr', {"alice", "bob", "carol", "dave"}),
    (f'{ENTERPRISE}:employeeNumber eq "E-2"', {"bob"}),
    ('name.familyName eq "jensen"', {"alice", "bob", "carol", "dave", "eve"}),
    ('emails[primary eq true and value sw "d"]', {"dave"}),
    ('(userName eq "alice@example.com" or userName eq "dave@example.com") and active eq true', {"alice"}),
    ('id eq "{alice}"', {"alice"}),
    ('id eq "{okta}"', set()),
]


async def test_filters_return_exactly_the_right_users_across_sources(scim, other, db):
    entra = await _people(
        scim,
        ("alice", "alice@example.com", {"emails": [
            {"type": "work", "value": "alice@example.com", "primary": True},
            {"type": "home", "value": "Alice.Home@example.org"}]}),
        ("bob", "bob@example.com", {ENTERPRISE: {"employeeNumber": "E-2", "department": "Research"}}),
        ("carol", "carol@example.com", {"displayName": "Carol C."}),
        ("dave", "dave@example.com", {"active": False, "title": "Manager"}),
        ("eve", "eve@example.com", {"title": None, ENTERPRISE: {"department": "Sales"}}),
    )
    # Okta provisions the same people (and more) as users of its own: a filter never crosses sources.
    okta = await _people(
        other,
        ("alice", "alice@example.com", {"emails": [
            {"type": "work", "value": "alice@example.com", "primary": True},
            {"type": "home", "value": "alice.home@example.org"}]}),
        ("bob", "bob@example.com", {"displayName": "Carol C."}),
        ("zed", "zed@example.com", {"active": False}),
    )
    served = [(await scim.get(f"/scim/v2/Users/{u['id']}")).json() for u in entra.values()]
    keys = {u["id"]: k for k, u in entra.items()}
    for filter_, expected in FILTERS:
        filter_ = filter_.replace("{alice}", entra["alice"]["id"]).replace("{okta}", okta["alice"]["id"])
        got = await _ids(scim, filter_)
        assert {keys.get(i, i) for i in got} == expected, filter_
        assert got == _matching(served, filter_), filter_  # the same answer as the library's own evaluation
    assert await _ids(other, 'userName eq "alice@example.com"') == {okta["alice"]["id"]}
    assert await _ids(other, 'displayName eq "Carol C."') == {okta["bob"]["id"]}
    assert await _ids(other, 'emails.value eq "carol@example.com"') == set()
    assert await _ids(other, "active eq false") == {okta["zed"]["id"]}


async def test_last_modified_filter_and_sorting(scim, db):
    users = await _people(scim, *[(k, f"{k}@example.com", {}) for k in ("amy", "ben", "cat")])
    # Requests in a test share one transaction (one now()): date the users apart by hand.
    for hours, key in ((3, "ben"), (2, "amy"), (1, "cat")):
        await db.execute(update(DirectoryIdentity).where(DirectoryIdentity.id == int(users[key]["id"])).values(
            updated_at=func.now() - dt.timedelta(hours=hours)))
    await db.flush()
    since = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=2, minutes=30)).isoformat()
    assert await _ids(scim, f'meta.lastModified gt "{since}"') == {users["amy"]["id"], users["cat"]["id"]}
    assert await _ids(scim, f'meta.lastModified lt "{since}"') == {users["ben"]["id"]}
    ordered = await _listed(scim, sortBy="meta.lastModified", sortOrder="descending")
    assert [r["id"] for r in ordered["Resources"]] == [users[k]["id"] for k in ("cat", "amy", "ben")]
    by_name = await _listed(scim, sortBy="userName", startIndex=2, count=1)
    assert by_name["totalResults"] == 3 and [r["userName"] for r in by_name["Resources"]] == ["ben@example.com"]
    # Sorting on a multi-valued attribute is done in Python, over the (few) matching users.
    by_email = await _listed(scim, sortBy="emails", sortOrder="descending")
    assert [r["userName"] for r in by_email["Resources"]] == ["cat@example.com", "ben@example.com", "amy@example.com"]


async def test_a_filter_sql_cannot_narrow_is_refused_past_a_bound(scim, monkeypatch):
    from socius.directory import scim as scim_module

    users = await _people(scim, *[(k, f"{k}@example.com", {}) for k in ("amy", "ben", "cat")])
    monkeypatch.setattr(scim_module, "MAX_CANDIDATES", 2)
    # meta.resourceType is not stored: checked in Python, over the users the indexed part narrows to …
    assert await _ids(scim, 'userName eq "amy@example.com" and meta.resourceType eq "User"') == {users["amy"]["id"]}
    # … and refused when nothing narrows it enough, rather than loading every user.
    response = await scim.get("/scim/v2/Users", params={"filter": 'meta.resourceType eq "User"'})
    assert_error(response, 400, "tooMany")
    assert (await _listed(scim, filter='userName sw "a" or userName sw "b"'))["totalResults"] == 2


async def test_deep_pages_are_exact(scim, other):
    mine = [await create(scim, user_name=f"user{i}@example.com") for i in range(7)]
    await create(other, user_name="user0@example.com")
    for start, count in ((1, 3), (4, 3), (7, 3), (8, 3), (3, 0)):
        page = await _listed(scim, startIndex=start, count=count)
        assert page["totalResults"] == 7 and page["startIndex"] == start
        assert [r["id"] for r in page.get("Resources", [])] == [u["id"] for u in mine[start - 1:start - 1 + count]]


ENTRA_AND_OKTA = [
    ('userName eq "alice@example.com"', "ix_directory_identity_scim_user_name"),
    ('externalId eq "alice"', "ix_directory_identity_scim_external_id"),
    ('emails[type eq "work"].value eq "alice@example.com"', "ix_directory_identity_scim_emails"),
    ('emails.value eq "alice@example.com"', "ix_directory_identity_scim_emails"),
    ('emails[type eq "work" and value eq "alice@example.com"]', "ix_directory_identity_scim_emails"),
    ('userName sw "ali"', "ix_directory_identity_scim_user_name"),
    ('displayName eq "Alice"', "ix_directory_identity_scim_display_name"),
    ('meta.lastModified gt "2099-01-01T00:00:00Z"', "ix_directory_identity_updated"),  # changed since: few
    ('userName eq "a@example.com" or externalId eq "b"', "ix_directory_identity_scim_external_id"),
    ('userName eq "a@example.com" and title co "x"', "ix_directory_identity_scim_user_name"),
]


@pytest.fixture
async def crowded(db, make_person):
    """A source with 5,000 users (analysed), so that PostgreSQL plans as it would for a real directory."""
    from sqlalchemy import text

    source = await service.create_source(db, None, name="Crowded", kind="scim")
    holder = await make_person("Holder")
    await db.execute(text("""
        INSERT INTO directory_identity (source_id, external_id, person_id, raw)
        SELECT :source, 'obj-' || n, :person, jsonb_build_object('scim', jsonb_build_object(
            'userName', 'user' || n || '@example.com', 'externalId', 'obj-' || n, 'displayName', 'User ' || n,
            'title', 'Engineer', 'emails', jsonb_build_array(jsonb_build_object(
                'type', 'work', 'value', 'user' || n || '@example.com', 'primary', true))))
        FROM generate_series(1, 5000) AS n"""), {"source": source.id, "person": holder.id})
    await db.execute(text("ANALYZE directory_identity"))
    return source


@pytest.mark.parametrize(("filter_", "index"), ENTRA_AND_OKTA)
async def test_what_entra_and_okta_send_is_sql_on_an_index(db, crowded, filter_, index):
    from scim2_models import Context, EnterpriseUser, SearchRequest, User

    from socius.directory import scim_query
    from socius.directory.models import SCIM_LIVE

    search = SearchRequest[User[EnterpriseUser]].model_validate({"filter": filter_}, scim_ctx=Context.SEARCH_REQUEST)
    condition = scim_query.translate(search.filter)
    assert condition.exact
    stmt = select(DirectoryIdentity.id).where(DirectoryIdentity.source_id == crowded.id, SCIM_LIVE, condition.sql)
    assert index in await _plan(db, stmt)


async def test_duplicate_user_name_detection_uses_the_index(db, crowded):
    from socius.directory.scim import user_name_holders

    assert "ix_directory_identity_scim_user_name" in await _plan(db, user_name_holders(crowded, "User7@example.com"))


async def _plan(db, stmt) -> str:
    from sqlalchemy import text
    from sqlalchemy.dialects import postgresql

    compiled = stmt.compile(dialect=postgresql.psycopg.dialect(), compile_kwargs={"literal_binds": True})
    rows = await db.execute(text("EXPLAIN " + str(compiled).replace("%%", "%").replace(":", r"\:")))
    return "\n".join(r[0] for r in rows)


async def test_listing_groups_reads_members_of_the_page_only(scim, db, database):
    """Departments are few and their members are everyone: a listing must not read a query per group, nor the
    members of groups it does not show."""
    for i, department in enumerate(["Sales", "Research", "Legal", "Finance", "Support"] * 2):
        payload = user_payload(f"u{i}@example.com")
        payload[ENTERPRISE] = {"department": department}
        assert (await scim.post("/scim/v2/Users", json=payload)).status_code == 201
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    from sqlalchemy import event

    engine = database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        page = (await scim.get("/scim/v2/Groups", params={"count": "2", "startIndex": "2"})).json()
        only = (await scim.get("/scim/v2/Groups", params={"filter": 'displayName eq "legal"'})).json()
        by_member = (await scim.get("/scim/v2/Groups", params={"filter": 'members.display eq "Barbara Jensen"'}))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert page["totalResults"] == 5 and [g["displayName"] for g in page["Resources"]] == ["Legal", "Research"]
    assert all(len(g["members"]) == 2 for g in page["Resources"])
    assert [g["displayName"] for g in only["Resources"]] == ["Legal"] and len(only["Resources"][0]["members"]) == 2
    assert by_member.status_code == 200 and by_member.json()["totalResults"] == 5
    member_reads = [s for s in statements if "FROM directory_identity" in s and "ANY (" in s]
    assert len(member_reads) == 3  # one per listing, however many groups
