"""The demo company: ~330 people of 致遠科技 Zhiyuan Technology, created through the real service functions.

`socius demo` and `socius serve --demo` call `ensure_demo`. It is deterministic (a seeded random generator) and
idempotent: once the demo administrator exists, it creates nothing and only returns the logins.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from socius.accounts import service as accounts
from socius.accounts.models import Account
from socius.config import Settings
from socius.core import text
from socius.core.db import Database
from socius.demo import company, names
from socius.demo.communities import Cast, seed_communities
from socius.demo.company import DEPARTMENTS, DOMAIN, EXECUTIVE, OFFICES, Department
from socius.demo.ideas import seed_ideas
from socius.expertise import service as expertise
from socius.people import service as people
from socius.people.models import Role

SEED = 20261123
# (role label, username, password). Fixed and printed: this is a demo, not a deployment.
ADMIN_LOGIN = ("administrator", "demo-admin", "demo-admin-pass")
EMPLOYEE_LOGIN = ("employee", "demo-employee", "demo-employee-pass")
GUEST_LOGIN = ("guest", "demo-guest", "demo-guest-pass")
LOGINS = [ADMIN_LOGIN, EMPLOYEE_LOGIN, GUEST_LOGIN]


@dataclass(eq=False)
class Draft:
    """A person before creation; `manager` points at an earlier draft."""

    fields: dict[str, Any]
    manager: Draft | None
    department: Department | None = None
    office: str = ""
    login: tuple[str, str, str] | None = None
    former: bool = False
    id: int | None = None
    reports: list[Draft] = field(default_factory=list)

    @property
    def title(self) -> str:
        return self.fields.get("title") or ""


async def ensure_demo(db: Database, settings: Settings | None = None) -> list[tuple[str, str, str]]:
    """Create the demo company once; return the (role, username, password) rows to sign in with. With
    `settings`, the communities' demo files are stored in its data directory too."""
    async with db.transaction() as session:
        if await session.scalar(select(Account.id).where(Account.username == ADMIN_LOGIN[1])):
            return list(LOGINS)
        drafts = build_company(random.Random(SEED))
        for draft in drafts:
            manager_id = draft.manager.id if draft.manager else None
            person = await people.create_person(session, None, manager_id=manager_id, **draft.fields)
            draft.id = person.id
            if draft.login:
                await accounts.create_account(session, person, draft.login[1], draft.login[2])
        await seed_tags(session, drafts)
        await seed_communities(session, cast_of(drafts), random.Random(SEED + 2), settings)
        await seed_ideas(session, cast_of(drafts), random.Random(SEED + 3))
        for draft in drafts:
            if draft.former:
                await people.deactivate(session, None, draft.id)
    return list(LOGINS)


async def seed_tags(session, drafts: list[Draft]) -> None:
    """Skills from each department's focus, given by people themselves and by colleagues in their own script
    (Traditional in Taiwan and Hong Kong, Simplified in the mainland, English elsewhere). The English names are
    made synonyms of the Chinese ones, so an English question finds the same experts."""
    await expertise.import_tags(session, demo_tags(random.Random(SEED + 1), drafts))
    for department in DEPARTMENTS:
        for zh, en in department.focus:
            tag = await expertise.resolve(session, expertise.tag_key(zh))
            if tag is not None and await expertise.resolve(session, expertise.tag_key(en)) != tag:
                await expertise.make_synonym(session, tag, en, expertise.tag_key(en))


def cast_of(drafts: list[Draft]) -> Cast:
    """Who writes the demo communities' content: the people one signs in as, and colleagues by department."""
    by_login = {d.login: d for d in drafts if d.login}
    staff = [d for d in drafts if d.department and d.fields.get("role") != Role.GUEST and not d.former]

    def of(department: str) -> list[Draft]:
        return [d for d in staff if d.department.name == department]

    return Cast(employee=by_login[EMPLOYEE_LOGIN], admin=by_login[ADMIN_LOGIN], guest=by_login[GUEST_LOGIN],
                engineers=of("R&D"), operations=of("Operations"), innovators=of("Innovation Office"))


def demo_tags(rng: random.Random, drafts: list[Draft]) -> list[tuple[int, int, str]]:
    """(tagger, person, label) rows: each employee knows one to three of their department's focus areas."""
    staff = [d for d in drafts if d.department and d.department.focus and d.fields.get("role") != Role.GUEST]
    by_department: dict[str, list[Draft]] = {}
    for draft in staff:
        by_department.setdefault(draft.department.name, []).append(draft)

    def spelled(skill: tuple[str, str], who: Draft) -> str:
        culture = OFFICES[who.office].culture
        if culture in ("tw", "hk"):
            return skill[0]
        return text.fold(skill[0]) if culture == "cn" else skill[1]

    rows = []
    for draft in staff:
        colleagues = [d for d in by_department[draft.department.name] if d is not draft]
        for skill in rng.sample(draft.department.focus, k=min(len(draft.department.focus), rng.randint(1, 3))):
            if rng.random() < 0.6:
                rows.append((draft.id, draft.id, spelled(skill, draft)))
            for colleague in rng.sample(colleagues, k=min(len(colleagues), rng.choice((0, 0, 1, 1, 2, 3, 5)))):
                rows.append((colleague.id, draft.id, spelled(skill, colleague)))
    return rows


# --- the organisation ---------------------------------------------------------------------------------------

class _Builder:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.drafts: list[Draft] = []
        self.emails: set[str] = set()

    def email(self, local: str, domain: str = DOMAIN) -> str:
        candidate, n = local, 1
        while f"{candidate}@{domain}" in self.emails:
            n += 1
            candidate = f"{local}{n}"
        self.emails.add(f"{candidate}@{domain}")
        return f"{candidate}@{domain}"

    def culture_for(self, office: str) -> str:
        culture = OFFICES[office].culture
        roll = self.rng.random()
        if culture in ("en", "es", "fr") and roll < 0.15:
            return self.rng.choice(("tw", "cn"))  # colleagues posted abroad
        if culture in ("tw", "cn") and roll < 0.03:
            return "en"
        return culture

    def person(
        self, office: str, department: Department, title: str, manager: Draft | None, *,
        culture: str | None = None, name: names.Name | None = None, surname: str | None = None,
    ) -> Draft:
        rng = self.rng
        where = OFFICES[office]
        culture = culture or self.culture_for(office)
        name = name or names.make_name(rng, culture, surname=surname)
        local = name.email_local
        fields: dict[str, Any] = {
            "display_name": name.display_name,
            "name_native": name.name_native,
            "name_latin": name.name_latin,
            "email": self.email(local),
            "title": title,
            "department": department.name,
            "location": where.location,
            "time_zone": where.time_zone,
            "phone": company.phone_number(rng, where.phone, extension=rng.random() < 0.3),
            "languages": company.languages_for(rng, culture),
            "about_md": about_text(rng, culture, where, department) if rng.random() < 0.85 else "",
            "links": links_for(rng, local, department.name) if rng.random() < 0.3 else [],
        }
        if rng.random() < 0.25:
            fields["locale"] = company.LOCALE_OF[culture]
        draft = Draft(fields, manager, department, office)
        if manager:
            manager.reports.append(draft)
        self.drafts.append(draft)
        return draft


def build_company(rng: random.Random) -> list[Draft]:
    """Every demo person, managers before their reports: CEO, heads, directors, managers, (leads,) staff."""
    b = _Builder(rng)
    ceo = b.person("taipei", EXECUTIVE, "Chief Executive Officer", None, culture="tw",
                   name=names.make_name(rng, "tw", surname="林", given="致遠"))
    b.person("taipei", EXECUTIVE, "Chief of Staff", ceo, culture="tw")
    b.person("taipei", EXECUTIVE, "Executive Assistant to the CEO", ceo, culture="tw")
    # Some surnames are pinned where search must prove itself: compound (歐陽, 司馬) and heteronyms (曾, 單).
    pinned = {("R&D", None): "司馬", ("Marketing", None): "歐陽", ("Customer Support", "kaohsiung"): "曾",
              ("Manufacturing", "shenzhen"): "單"}
    for department in DEPARTMENTS:
        head_office = department.head_office
        head = b.person(head_office, department, department.head_title, ceo,
                        culture=OFFICES[head_office].culture, surname=pinned.get((department.name, None)))
        for area in department.areas:
            director = head if len(department.areas) == 1 else b.person(
                area.offices[0], department, f"Director, {area.name}", head)
            for office in area.offices:
                manager = b.person(office, department, f"{area.name} Manager", director,
                                   surname=pinned.get((area.name, office)))
                size = rng.randint(*department.team_size)
                lead = None
                if department.name == "R&D" and size >= 6:
                    lead = b.person(office, department, "Tech Lead", manager)
                for i in range(size):
                    boss = lead if lead and i >= size // 2 else manager
                    b.person(office, department, rng.choice(area.staff_titles), boss)
    _add_demo_people(b)
    return b.drafts


def _first(b: _Builder, test: Callable[[Draft], bool]) -> Draft:
    return next(d for d in b.drafts if test(d))


def _add_demo_people(b: _Builder) -> None:
    """The people one signs in as, their guest, more guests, and a few former employees."""
    rng = b.rng
    admin = _first(b, lambda d: d.title in ("Systems Engineer", "Network Engineer", "Security Analyst")
                   and d.office == "taipei")
    _rename(b, admin, names.make_name(rng, "tw", surname="張", given="家豪"))
    admin.fields.update(title="Senior Systems Engineer", role=Role.ADMINISTRATOR, locale="zh_Hant",
                        languages=["zh-Hant", "en"])
    admin.fields["about_md"] = (
        "負責公司的帳號、單一登入與 Socius 平台維運。需要開帳號或權限，請找我。\n"
        "I run accounts, single sign-on and the Socius platform. Ask me for access or new accounts.\n\n"
        "- **可以問我 Ask me about:** 單一登入、目錄同步（single sign-on, directory sync）\n"
        "- **工作之外 Outside work:** 露營（camping）\n"
    )
    admin.login = ADMIN_LOGIN

    employee = _first(b, lambda d: d.title in company.ENGINEERS and d.office == "taipei"
                      and d.manager is not None and d.manager.title.startswith("Cloud Platform"))
    _rename(b, employee, names.make_name(rng, "tw", surname="陳", given="美玲"))
    employee.fields.update(
        title="Senior Software Engineer", locale="zh_Hant", languages=["zh-Hant", "en", "ja"],
        links=[{"label": "Blog", "url": "https://blog.zhiyuan.example/meiling.chen"},
               {"label": "Code", "url": "https://git.zhiyuan.example/meiling.chen"}],
        about_md=(
            "我在台北的研發部做雲端平台，最近專注在 API 設計和服務監控。"
            "歡迎來聊聊怎麼讓系統更穩定！\n"
            "I build our cloud platform in Taipei, lately API design and service monitoring.\n\n"
            "- **可以問我 Ask me about:** API 設計、效能調校（API design, performance tuning）\n"
            "- **工作之外 Outside work:** 手沖咖啡、登山（pour-over coffee, hiking）\n"
        ),
    )
    employee.login = EMPLOYEE_LOGIN

    # Guests: people of partner and customer companies. Their manager is their host employee: a guest sees
    # themselves and their host, nothing else of the directory.
    guests = (
        (employee, "tw", ("曾", "子健"), "Optical Engineer, Spectra Optics 光譜光學 (partner)",
         "spectra-optics.example", "hsinchu", GUEST_LOGIN),
        (_first(b, lambda d: d.office == "monterrey" and d.title.startswith("Americas & Europe Sales")), "es",
         None, "Procurement Lead, Grupo Acerero del Norte (customer)", "acerero-norte.example", "monterrey", None),
        (_first(b, lambda d: d.office == "paris" and d.department and d.department.name == "Innovation Office"),
         "fr", None, "Design Researcher, Atelier Numérique (partner)", "atelier-numerique.example", "paris", None),
        (_first(b, lambda d: d.office == "shenzhen" and d.title == "Logistics Manager"), "cn", ("單", "志強"),
         "Account Director, 深圳明途物流 BrightPath Logistics (partner)", "brightpath.example", "shenzhen", None),
        (_first(b, lambda d: d.office == "hong_kong" and d.department and d.department.name == "Sales"), "hk",
         ("歐陽", "嘉欣"), "IT Manager, Harbour Retail Group (customer)", "harbour-retail.example", "hong_kong", None),
    )
    for host, culture, chinese, title, domain, office, login in guests:
        name = names.make_name(rng, culture, surname=chinese[0], given=chinese[1]) if chinese else \
            names.make_name(rng, culture)
        where = OFFICES[office]
        guest = Draft({
            "display_name": name.display_name, "name_native": name.name_native, "name_latin": name.name_latin,
            "email": b.email(name.email_local, domain), "title": title, "role": Role.GUEST,
            "location": where.location, "time_zone": where.time_zone,
            "phone": company.phone_number(rng, where.phone),
            "languages": company.languages_for(rng, culture),
            "about_md": guest_about(culture, title, host),
        }, host, None, office, login=login)
        host.reports.append(guest)
        b.drafts.append(guest)

    # A few people have left: their profiles stay, marked former.
    leavers = [d for d in b.drafts if not d.reports and d.login is None and d.fields.get("role") is None]
    for draft in rng.sample(leavers, 3):
        draft.former = True


def _rename(b: _Builder, draft: Draft, name: names.Name) -> None:
    b.emails.discard(draft.fields["email"])
    draft.fields.update(display_name=name.display_name, name_native=name.name_native, name_latin=name.name_latin,
                        email=b.email(name.email_local))


# --- what people write about themselves ----------------------------------------------------------------------

def about_text(rng: random.Random, culture: str, office: company.Office, department: Department) -> str:
    """A short bilingual "about me" in Markdown, from templates and the department's vocabulary."""
    focus, focus2 = rng.sample(department.focus, 2) if len(department.focus) > 1 else (department.focus[0],) * 2
    hobby = rng.choice(company.HOBBIES)
    zh_tpl, en_tpl = rng.choice(company.INTROS)
    values = {
        "office": office.name_zh, "dept": department.name_zh, "focus": focus[0], "focus2": focus2[0],
        "company": company.COMPANY_ZH, "years": rng.randint(1, 15), "office_en": office.location,
        "dept_en": department.name, "focus_en": focus[1], "focus2_en": focus2[1], "company_en": company.COMPANY_EN,
    }
    english = en_tpl.format(**values)
    if culture in ("en", "es", "fr"):
        text = (f"{english}\n\n**Ask me about:** {focus[1]}, {focus2[1]}. Outside work: {hobby[1]}.\n")
        if culture != "en" or rng.random() < 0.2:
            text += f"\n{company.LOCAL_GREETINGS[culture]}\n"
        return text
    chinese = (
        f"{zh_tpl.format(**values)}\n{english}\n\n"
        f"- **可以問我 Ask me about:** {focus[0]}、{focus2[0]}（{focus[1]}, {focus2[1]}）\n"
        f"- **工作之外 Outside work:** {hobby[0]}（{hobby[1]}）\n"
    )
    return names.mainland_text(chinese) if culture in ("cn", "sg") else chinese


def guest_about(culture: str, title: str, host: Draft) -> str:
    company_name = title.split(", ", 1)[1]
    english = f"External guest from {company_name}. Working with {host.fields['display_name']} on a joint project."
    if culture in ("tw", "hk"):
        return f"合作夥伴，與{host.fields['display_name']}一起進行合作專案。\n{english}\n"
    if culture == "cn":
        return names.mainland_text(f"合作夥伴，與{host.fields['display_name']}一起進行合作專案。") + f"\n{english}\n"
    return english + "\n"


def links_for(rng: random.Random, user: str, team: str) -> list[dict[str, str]]:
    kinds = rng.sample(company.LINK_KINDS, rng.randint(1, 2))
    team = re.sub(r"[^a-z0-9]+", "-", team.lower()).strip("-")
    return [{"label": label, "url": url.format(user=user, team=team)} for label, url in kinds]
