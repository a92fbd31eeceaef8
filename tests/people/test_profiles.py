"""Profiles: what the page shows, reporting lines, former people, who may edit what, Markdown, audit, conflicts."""

from __future__ import annotations

import re

from tests.conftest import sign_in
from tests.people.conftest import field_errors


def section(html: str, heading: str) -> str:
    """The panel of a profile page under an <h2> heading (up to the next panel)."""
    start = html.index(f"<h2>{heading}</h2>")
    end = html.find("</section>", start)
    return html[start:end]


async def test_profile_page_shows_every_field(client, make_person, member, login):
    someone = await make_person(
        "林志豪", username="zhihao", name_native="林志豪", name_latin="Lin Chih-hao", title="產品經理",
        department="產品部", location="新竹", time_zone="Asia/Taipei", phone="+886 3 555 0101",
        languages=["zh-Hant", "en"], about_md="I build **products**.",
        links=[{"label": "Blog", "url": "https://blog.example.com/zhihao"}], manager_id=member.id,
    )
    await login(client, member)
    page = await client.get(f"/people/{someone.id}")
    assert page.status_code == 200
    for shown in ("林志豪", "Lin Chih-hao", "產品經理", "產品部", "新竹", "Asia/Taipei", "+886 3 555 0101",
                  "zh-Hant, en", "zhihao@example.com", "<strong>products</strong>",
                  'href="https://blog.example.com/zhihao"', ">Blog</a>"):
        assert shown in page.text, shown
    assert f'href="/people/{member.id}"' in section(page.text, "Reporting line")


async def test_reporting_chain_runs_to_the_top_and_direct_reports_are_listed(client, make_person, login):
    ceo = await make_person("Grace Top", title="Chief Executive")
    vp = await make_person("Victor Middle", title="VP Engineering", manager_id=ceo.id)
    director = await make_person("Dora Lower", title="Director", manager_id=vp.id)
    engineer = await make_person("Ethan Bottom", manager_id=director.id)
    await make_person("Fiona Sideways", manager_id=director.id)
    await login(client, engineer)

    line = section((await client.get(f"/people/{engineer.id}")).text, "Reporting line")
    positions = [line.index(name) for name in ("Grace Top", "Victor Middle", "Dora Lower", "Ethan Bottom")]
    assert positions == sorted(positions), "the chain reads from the top down to the person"
    assert "Fiona Sideways" not in line

    line = section((await client.get(f"/people/{director.id}")).text, "Reporting line")
    assert "<h3>2 direct reports</h3>" in line
    reports = line[line.index("direct reports"):]
    assert "Ethan Bottom" in reports and "Fiona Sideways" in reports
    assert "Grace Top" not in reports


async def test_api_shows_the_manager_of_a_profile(client, make_person, member, api):
    report = await make_person("Ethan Bottom", manager_id=member.id)
    body = (await (await api(member)).get(f"/api/v1/people/{report.id}")).json()
    assert body["manager"]["id"] == member.id
    assert body["manager"]["display_name"] == "陳美玲"
    assert body["former"] is False and body["external"] is False


async def test_deactivated_person_is_marked_former_and_cannot_sign_in(client, browser, admin, member, login, api):
    leaver_browser = browser()
    await login(leaver_browser, member)
    token = await login(client, admin)

    response = await client.post(f"/people/{member.id}/deactivate", data={"csrf_token": token})
    assert response.status_code == 303

    page = await client.get(f"/people/{member.id}")
    assert page.status_code == 200
    assert '<span class="badge former">Former</span>' in page.text
    assert (await (await api(admin)).get(f"/api/v1/people/{member.id}")).json()["former"] is True

    # Signed out where they were signed in, and the right password no longer opens a session.
    assert (await leaver_browser.get("/people")).headers["location"].startswith("/login")
    attempt = await sign_in(browser(), member)
    assert attempt.status_code == 200
    assert "The username or password is not correct." in attempt.text
    assert "socius_session=" not in attempt.headers.get("set-cookie", "")


async def test_member_edits_own_profile_through_the_page_form(client, member, login, api):
    token = await login(client, member)
    form = await client.get(f"/people/{member.id}/edit")
    assert form.status_code == 200
    response = await client.post(f"/people/{member.id}/edit", data={
        "csrf_token": token, "display_name": "陳美玲", "title": "技術經理", "time_zone": "Asia/Taipei",
        "languages": "zh-Hant，en", "phone": "+886 2 2700 1234", "about_md": "Hello",
        "links": "Site | https://meiling.example.com",
    })
    assert response.status_code == 303
    assert response.headers["location"] == f"/people/{member.id}?saved=1"
    page = await client.get(response.headers["location"])
    assert "Profile saved." in page.text and "技術經理" in page.text
    body = (await (await api(member)).get(f"/api/v1/people/{member.id}")).json()
    assert body["title"] == "技術經理"
    assert body["time_zone"] == "Asia/Taipei"
    assert body["languages"] == ["zh-Hant", "en"]
    assert body["phone"] == "+886 2 2700 1234"
    assert body["links"] == [{"label": "Site", "url": "https://meiling.example.com"}]


async def test_profile_form_without_csrf_token_changes_nothing(client, member, login, api):
    await login(client, member)
    response = await client.post(f"/people/{member.id}/edit", data={"display_name": "陳美玲", "title": "Hacked"})
    assert response.status_code == 403
    assert (await (await api(member)).get(f"/api/v1/people/{member.id}")).json()["title"] == "資深工程師"


async def test_member_edits_own_profile_through_the_api(member, api):
    me = await api(member)
    response = await me.patch(f"/api/v1/people/{member.id}", json={"title": "技術經理", "languages": ["zh-Hant"]})
    assert response.status_code == 200
    assert response.json()["title"] == "技術經理"
    again = (await me.get(f"/api/v1/people/{member.id}")).json()
    assert again["title"] == "技術經理" and again["languages"] == ["zh-Hant"]
    assert again["department"] == "研發部", "fields not in the body stay as they were"


async def test_member_gets_not_found_for_someone_elses_edit_form_and_patch(client, make_person, member, login, api):
    other = await make_person("Olga Other", title="Analyst")
    token = await login(client, member)
    assert (await client.get(f"/people/{other.id}/edit")).status_code == 404
    posted = await client.post(f"/people/{other.id}/edit",
                               data={"csrf_token": token, "display_name": "Olga Other", "title": "Hacked"})
    assert posted.status_code == 404
    patched = await (await api(member)).patch(f"/api/v1/people/{other.id}", json={"title": "Hacked"})
    assert patched.status_code == 404
    assert patched.json()["error"]["code"] == "not_found"
    assert (await (await api(other)).get(f"/api/v1/people/{other.id}")).json()["title"] == "Analyst"


async def test_administrator_edits_anyone_including_email_and_manager(client, admin, member, make_person, api,
                                                                       login):
    boss = await make_person("Bella Boss")
    admin_api = await api(admin)
    response = await admin_api.patch(f"/api/v1/people/{member.id}",
                                     json={"email": "Mei.Ling.Chen@Example.com", "manager_id": boss.id,
                                           "title": "Principal Engineer"})
    assert response.status_code == 200, response.text
    body = (await (await api(member)).get(f"/api/v1/people/{member.id}")).json()
    assert body["email"] == "mei.ling.chen@example.com"
    assert body["manager"]["id"] == boss.id
    assert body["title"] == "Principal Engineer"

    # The page form too: the manager is given by e-mail address.
    token = await login(client, admin)
    form = await client.get(f"/people/{member.id}/edit")
    assert 'name="email"' in form.text and 'name="manager"' in form.text
    response = await client.post(f"/people/{member.id}/edit", data={
        "csrf_token": token, "display_name": "陳美玲", "email": "meiling@example.com", "manager": admin.person.email,
    })
    assert response.status_code == 303, response.text
    body = (await (await api(member)).get(f"/api/v1/people/{member.id}")).json()
    assert body["email"] == "meiling@example.com"
    assert body["manager"]["id"] == admin.id


async def test_member_cannot_change_own_email_or_manager(member, make_person, api):
    boss = await make_person("Bella Boss")
    me = await api(member)
    before = (await me.get(f"/api/v1/people/{member.id}")).json()
    errors = field_errors(await me.patch(f"/api/v1/people/{member.id}", json={"email": "new@example.com"}))
    assert errors == {"email": "cannot be changed by you"}
    errors = field_errors(await me.patch(f"/api/v1/people/{member.id}",
                                         json={"manager_id": boss.id, "title": "Boss"}))
    assert set(errors) == {"manager_id"}
    assert (await me.get(f"/api/v1/people/{member.id}")).json() == before


async def test_member_edit_form_has_no_email_or_manager_fields_and_ignores_them(client, member, make_person,
                                                                                  login, api):
    boss = await make_person("Bella Boss")
    token = await login(client, member)
    form = await client.get(f"/people/{member.id}/edit")
    assert 'name="email"' not in form.text and 'name="manager"' not in form.text
    await client.post(f"/people/{member.id}/edit", data={
        "csrf_token": token, "display_name": "陳美玲", "email": "new@example.com", "manager": str(boss.id),
    })
    body = (await (await api(member)).get(f"/api/v1/people/{member.id}")).json()
    assert body["email"] == "meiling@example.com"
    assert body["manager"] is None


EVIL_ABOUT = (
    "Hello **world**\n\n"
    "<script>alert('owned')</script>\n\n"
    "[click me](javascript:alert('owned'))\n\n"
    "<a href=\"javascript:alert('owned')\">raw link</a>\n\n"
    "[fine](https://example.com/ok)"
)
# A real tag with a javascript: address (escaped text like "&lt;a href=…" is harmless).
JS_LINK = re.compile(r"<a\b[^>]*\bhref\s*=\s*[\"']?\s*javascript:", re.IGNORECASE)


async def test_about_me_markdown_is_rendered_and_sanitised(client, member, login, api):
    me = await api(member)
    response = await me.patch(f"/api/v1/people/{member.id}", json={"about_md": EVIL_ABOUT})
    assert response.status_code == 200
    about_html = response.json()["about_html"]
    assert "<strong>world</strong>" in about_html
    assert 'href="https://example.com/ok"' in about_html
    assert "<script" not in about_html
    assert not JS_LINK.search(about_html)
    assert response.json()["about_md"] == EVIL_ABOUT, "the source is kept as written"

    await login(client, member)
    page = await client.get(f"/people/{member.id}")
    about = section(page.text, "About me")
    assert "<strong>world</strong>" in about
    assert "<script" not in about
    assert not JS_LINK.search(about)


async def test_profile_change_is_in_the_audit_log_with_old_and_new_values(client, browser, admin, member, api, login):
    me = await api(member)
    assert (await me.patch(f"/api/v1/people/{member.id}", json={"title": "Staff Engineer"})).status_code == 200

    await login(client, admin)
    log = await client.get(f"/admin/audit?object_type=person&object_id={member.id}&action=person.update")
    assert log.status_code == 200
    rows = log.text[log.text.index("<tbody>"):log.text.index("</tbody>")]
    assert "person.update" in rows
    before, after = re.search(r"<td>(<dl class=\"diff\">.*?</dl>)</td>\s*<td>(<dl class=\"diff\">.*?</dl>)</td>",
                              rows, re.DOTALL).groups()
    assert "<dt>title</dt><dd>資深工程師</dd>" in before
    assert "<dt>title</dt><dd>Staff Engineer</dd>" in after
    assert f'<a href="/people/{member.id}">陳美玲</a>' in rows, "the actor is named"

    member_browser = browser()
    await login(member_browser, member)
    refused = await member_browser.get("/admin/audit")
    assert refused.status_code == 403
    assert "資深工程師" not in refused.text


async def test_stale_if_match_is_a_conflict_and_changes_nothing(member, api):
    me = await api(member)
    first = await me.get(f"/api/v1/people/{member.id}")
    stale = first.headers["ETag"]
    ok = await me.patch(f"/api/v1/people/{member.id}", json={"title": "One"}, headers={"If-Match": stale})
    assert ok.status_code == 200
    assert ok.headers["ETag"] != stale
    conflict = await me.patch(f"/api/v1/people/{member.id}", json={"title": "Two"}, headers={"If-Match": stale})
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "conflict"
    assert (await me.get(f"/api/v1/people/{member.id}")).json()["title"] == "One"
    fresh = await me.patch(f"/api/v1/people/{member.id}", json={"title": "Two"},
                           headers={"If-Match": ok.headers["ETag"]})
    assert fresh.status_code == 200 and fresh.json()["title"] == "Two"



async def test_profile_shows_the_persons_local_time_and_dates_follow_the_viewer(client, make_person, member, login):
    import datetime as dt
    from zoneinfo import ZoneInfo

    far = await make_person("Ana López", username="ana", time_zone="America/Monterrey")
    await login(client, member)
    before = dt.datetime.now(ZoneInfo("America/Monterrey"))
    page = await client.get(f"/people/{far.id}", headers={"Accept-Language": "en"})
    after = dt.datetime.now(ZoneInfo("America/Monterrey"))
    assert "Local time" in page.text and "America/Monterrey" in page.text
    assert any(f"{moment.strftime('%-I:%M')}\u202f{moment.strftime('%p')}" in page.text or
               moment.strftime("%-I:%M") in page.text for moment in (before, after))
