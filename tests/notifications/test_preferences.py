"""Per-kind preferences through the API and the settings page: defaults, saving only what differs, audit,
bad input named by field with nothing changed, CSRF."""

from __future__ import annotations

from sqlalchemy import func, select

from socius.admin.models import AuditEntry
from socius.notifications.models import NotificationPreference
from tests.people.conftest import field_errors


async def stored(db, person_id: int) -> dict[str, tuple[bool, str]]:
    rows = (await db.scalars(select(NotificationPreference)
                             .where(NotificationPreference.person_id == person_id))).all()
    return {r.kind: (r.in_app, r.email) for r in rows}


async def test_the_api_lists_every_kind_with_its_defaults_and_saves_only_what_differs(db, app, make_person, bearer):
    me = await make_person("Me")
    async with await bearer(app, me) as api:
        items = {i["kind"]: i for i in (await api.get("/api/v1/notifications/preferences")).json()["items"]}
        assert items["mentioned"] == {"kind": "mentioned", "label": "Someone mentions me", "in_app": True,
                                      "email": "immediate", "default_in_app": True, "default_email": "immediate"}
        assert items["liked"]["email"] == "none"

        response = await api.put("/api/v1/notifications/preferences", json={"preferences": {
            "liked": {"in_app": False, "email": "none"},
            "replied": {"in_app": True, "email": "weekly"},
            "mentioned": {"in_app": True, "email": "immediate"},  # the default: nothing stored
        }})
        assert response.status_code == 200, response.text
        items = {i["kind"]: i for i in response.json()["items"]}
        assert (items["liked"]["in_app"], items["replied"]["email"]) == (False, "weekly")
        assert await stored(db, me.id) == {"liked": (False, "none"), "replied": (True, "weekly")}

        # Back to the default: the row goes.
        response = await api.put("/api/v1/notifications/preferences",
                                 json={"preferences": {"replied": {"in_app": True, "email": "daily"}}})
        assert response.status_code == 200
        assert await stored(db, me.id) == {"liked": (False, "none")}
    audits = (await db.scalars(select(AuditEntry).where(AuditEntry.action == "notifications.preferences")
                               .order_by(AuditEntry.id))).all()
    assert [a.new for a in audits] == [
        {"liked": {"in_app": False, "email": "none"}, "replied": {"in_app": True, "email": "weekly"}},
        {"replied": {"in_app": True, "email": "daily"}},
    ]


async def test_bad_preferences_are_refused_naming_the_field_and_change_nothing(db, app, make_person, bearer):
    me = await make_person("Me")
    cases = [
        ({"preferences": {"liked": {"in_app": False, "email": "none"}, "mentioned": {"in_app": True,
                                                                                      "email": "hourly"}}},
         "preferences.mentioned.email"),
        ({"preferences": {"liked": {"in_app": False, "email": "none"}, "no_such_kind": {"in_app": True,
                                                                                         "email": "none"}}},
         "preferences.no_such_kind"),
        ({"preferences": {"liked": {"in_app": "yes", "email": "none"}}}, "preferences.liked.in_app"),
        ({"preferences": {"liked": {"in_app": True}}}, "preferences.liked.email"),
        ({"preferences": {"liked": {"in_app": True, "email": "none", "sms": True}}}, "preferences.liked.sms"),
        ({"preferences": ["liked"]}, "preferences"),
        ({}, "preferences"),
    ]
    async with await bearer(app, me) as api:
        for payload, field in cases:
            response = await api.put("/api/v1/notifications/preferences", json=payload)
            assert field in field_errors(response), (payload, response.text)
        response = await api.put("/api/v1/notifications/preferences", content=b"{not json",
                                 headers={"content-type": "application/json"})
        assert "body" in field_errors(response)
    assert await stored(db, me.id) == {}
    assert await db.scalar(select(func.count()).select_from(AuditEntry)
                           .where(AuditEntry.action == "notifications.preferences")) == 0
    errors = field_errors(await api_put_as(app, bearer, me, {"preferences": {"mentioned": {
        "in_app": True, "email": "hourly"}}}))
    assert errors["preferences.mentioned.email"] == "must be one of: none, immediate, daily, weekly"


async def api_put_as(app, bearer, someone, payload):
    async with await bearer(app, someone) as api:
        return await api.put("/api/v1/notifications/preferences", json=payload)


async def test_the_settings_page_saves_with_a_csrf_token_and_shows_errors(db, client, make_person, login):
    me = await make_person("Me")
    token = await login(client, me)
    page = await client.get("/notifications/preferences")
    assert page.status_code == 200
    assert 'name="email.mentioned"' in page.text and "Someone mentions me" in page.text

    form = {"csrf_token": token, "email.mentioned": "daily", "in_app.mentioned": "1", "email.liked": "none"}
    response = await client.post("/notifications/preferences", data=form)
    assert response.status_code == 303 and response.headers["location"] == "/notifications/preferences?saved=1"
    # An unchecked box is "not in the app".
    assert await stored(db, me.id) == {"mentioned": (True, "daily"), "liked": (False, "none")}
    assert "Your notification settings are saved." in (await client.get(response.headers["location"])).text

    bad = await client.post("/notifications/preferences", data={**form, "email.mentioned": "hourly",
                                                                 "in_app.liked": "1"})
    assert bad.status_code == 422
    assert "must be one of: none, immediate, daily, weekly" in bad.text
    assert await stored(db, me.id) == {"mentioned": (True, "daily"), "liked": (False, "none")}

    forged = await client.post("/notifications/preferences", data={**form, "csrf_token": "forged"})
    assert forged.status_code == 403


async def test_the_settings_page_needs_a_signed_in_person(client):
    response = await client.get("/notifications/preferences", follow_redirects=False)
    assert response.status_code in (303, 401)


async def test_out_of_range_paging_is_a_422_not_a_500(db, app, make_person, bearer):
    me = await make_person("Me")
    async with await bearer(app, me) as api:
        response = await api.get("/api/v1/notifications", params={"before": str(2**63)})
        assert "before" in field_errors(response)
        response = await api.post("/api/v1/notifications/read", json={"ids": [2**63, -1]})
        assert response.json() == {"marked": 0}
