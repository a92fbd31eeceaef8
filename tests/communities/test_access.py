"""Who may read a community and what is in it, by every path the service offers."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from socius.communities import service
from socius.content import service as content
from socius.content.models import Item
from socius.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from socius.notifications.models import Notification
from socius.search import service as search
from socius.search.service import SearchRequest


async def test_restricted_community_is_invisible_to_non_members(db, make_person, community, admin, guest):
    owner = await make_person("Owner")
    insider = await make_person("Insider")
    outsider = await make_person("Outsider")
    secret = await community(owner, "併購小組", access="restricted", members=[insider])
    for someone in (owner, insider, admin):
        assert (await service.get_community(db, someone.principal, secret.id)).id == secret.id
    for someone in (outsider, guest):
        with pytest.raises(NotFound):
            await service.get_community(db, someone.principal, secret.id)
    listed = await service.catalog(db, outsider.principal, service.CatalogQuery(q="併購"))
    assert secret.id not in [c.id for c in listed]
    assert secret.id in [c.id for c in await service.catalog(db, insider.principal, service.CatalogQuery(q="并购"))]


async def test_leaving_removes_access_to_the_content_at_once(db, make_person, community):
    owner = await make_person("Owner")
    insider = await make_person("Insider")
    secret = await community(owner, "Secret", access="restricted", members=[insider])
    post = await content.create_item(db, owner.principal, kind="topic", community=secret,
                                     values={"title": "Plan", "body": "The plan"})
    assert (await content.get_item(db, insider.principal, post.id)).title == "Plan"
    await service.leave(db, insider.principal, secret.id)
    with pytest.raises(NotFound):
        await content.get_item(db, insider.principal, post.id)


async def test_joining_follows_the_community_kind(db, make_person, community, guest):
    owner = await make_person("Owner")
    joiner = await make_person("Joiner")
    public = await community(owner, "Open", access="public")
    moderated = await community(owner, "Careful", access="moderated")
    restricted = await community(owner, "Closed", access="restricted")
    assert (await service.join(db, joiner.principal, public.id)).state == "active"
    assert (await service.join(db, joiner.principal, moderated.id)).state == "requested"
    with pytest.raises(NotFound):
        await service.join(db, joiner.principal, restricted.id)
    with pytest.raises(NotFound):  # guests read only where they belong
        await service.join(db, guest.principal, public.id)
    requests = await service.members(db, owner.principal, moderated.id, state="requested")
    assert [m.person.id for m in requests] == [joiner.id]
    with pytest.raises(PermissionDenied):
        await service.members(db, joiner.principal, moderated.id, state="requested")
    await service.approve(db, owner.principal, moderated.id, joiner.id, True)
    assert joiner.id in [m.person.id for m in await service.members(db, joiner.principal, moderated.id)]
    told = await db.scalars(select(Notification.kind).where(Notification.person_id.in_([owner.id, joiner.id])))
    assert sorted(told) == ["join_approved", "join_requested"]


async def test_an_invited_guest_reads_only_their_community(db, make_person, community, guest):
    owner = await make_person("Owner")
    open_one = await community(owner, "Everyone", access="public")
    partners = await community(owner, "Partners", access="restricted")
    await service.invite(db, owner.principal, partners.id, [guest.id])
    await service.join(db, guest.principal, partners.id)
    assert (await service.get_community(db, guest.principal, partners.id)).id == partners.id
    with pytest.raises(NotFound):
        await service.get_community(db, guest.principal, open_one.id)
    assert [c.id for c in await service.catalog(db, guest.principal, service.CatalogQuery())] == [partners.id]


async def test_subcommunity_of_a_restricted_community_stays_restricted(db, make_person, community):
    owner = await make_person("Owner")
    outsider = await make_person("Outsider")
    parent = await community(owner, "Board", access="restricted")
    with pytest.raises(ValidationFailed) as error:
        await service.create(db, owner.principal, {"name": "Leak", "access": "public", "parent_id": parent.id})
    assert "access" in error.value.by_field()
    child = await service.create(db, owner.principal, {"name": "Audit", "access": "restricted",
                                                       "parent_id": parent.id})
    with pytest.raises(Conflict):  # only the parent's members may belong below it
        await service.invite(db, owner.principal, child.id, [outsider.id])
    with pytest.raises(ValidationFailed) as error:
        await service.create(db, owner.principal, {"name": "Deeper", "access": "restricted", "parent_id": child.id})
    assert "parent_id" in error.value.by_field()


async def test_the_last_owner_cannot_leave(db, make_person, community):
    owner = await make_person("Owner")
    made = await community(owner, "Solo")
    with pytest.raises(Conflict):
        await service.leave(db, owner.principal, made.id)


async def test_bad_input_names_the_field_and_changes_nothing(db, make_person):
    owner = await make_person("Owner")
    for values, field in (({"name": ""}, "name"), ({"name": "x" * 201}, "name"), ({"name": "a\x07b"}, "name"),
                          ({"name": "Fine", "access": "secret"}, "access"),
                          ({"name": "Fine", "tags": ["<b>"]}, "tags"),
                          ({"name": "Fine", "parent_id": -3}, "parent_id")):
        with pytest.raises(ValidationFailed) as error:
            await service.create(db, owner.principal, values)
        assert field in error.value.by_field(), values
    assert await service.catalog(db, owner.principal, service.CatalogQuery(mine=True)) == []


async def test_a_mention_of_an_outsider_tells_them_nothing(db, make_person, community):
    owner = await make_person("Owner")
    insider = await make_person("Insider")
    outsider = await make_person("Outsider")
    secret = await community(owner, "Secret", access="restricted", members=[insider])
    await content.create_item(db, owner.principal, kind="status", community=secret, title_required=False,
                              values={"body": f"@[Insider]({insider.id}) and @[Outsider]({outsider.id}) #併購"})
    told = list(await db.scalars(select(Notification.person_id).where(Notification.kind == "mentioned")))
    assert told == [insider.id]


async def test_concurrent_edits_conflict_instead_of_overwriting(db, make_person, community):
    owner = await make_person("Owner")
    made = await community(owner, "Docs")
    page = await content.create_item(db, owner.principal, kind="page", community=made,
                                     values={"title": "Guide", "body": "v1"})
    await content.edit_item(db, owner.principal, page, {"body": "first editor"}, expected_version=1)
    with pytest.raises(Conflict):
        await content.edit_item(db, owner.principal, page, {"body": "second editor"}, expected_version=1)
    assert (await db.get(Item, page.id)).body_md == "first editor"


async def test_markdown_is_sanitised(db, make_person, community):
    owner = await make_person("Owner")
    made = await community(owner, "Docs")
    item = await content.create_item(db, owner.principal, kind="entry", community=made, values={
        "title": "x", "body": "<script>alert(1)</script> [click](javascript:alert(1)) **bold**"})
    assert "<script" not in item.body_html and 'href="javascript' not in item.body_html
    assert "<strong>bold</strong>" in item.body_html


async def test_hidden_items_are_for_moderators_only(db, make_person, community):
    owner = await make_person("Owner")
    reader = await make_person("Reader")
    made = await community(owner, "Town hall", members=[reader])
    item = await content.create_item(db, reader.principal, kind="topic", community=made,
                                     values={"title": "Spam", "body": "buy"})
    await content.report(db, reader.principal, item.id, "spam")
    queue = await content.moderation_queue(db, owner.principal)
    assert [e.item.id for e in queue] == [item.id]
    assert await content.moderation_queue(db, reader.principal) == []
    with pytest.raises(PermissionDenied):
        await content.set_hidden(db, reader.principal, item.id, True)
    await content.set_hidden(db, owner.principal, item.id, True)
    with pytest.raises(NotFound):
        await content.get_item(db, reader.principal, item.id)
    assert (await content.get_item(db, owner.principal, item.id)).hidden_at is not None
    assert await content.moderation_queue(db, owner.principal) == []


async def test_search_never_returns_restricted_content_to_outsiders(db, make_person, community, backend, index_now):
    owner = await make_person("Owner")
    insider = await make_person("Insider")
    outsider = await make_person("Outsider")
    secret = await community(owner, "Secret", access="restricted", members=[insider])
    public = await community(owner, "Open")
    await content.create_item(db, owner.principal, kind="topic", community=secret,
                              values={"title": "預拌混凝土 併購", "body": "機密"})
    await content.create_item(db, owner.principal, kind="topic", community=public,
                              values={"title": "預拌混凝土 配方", "body": "公開"})
    await index_now()

    async def titles(someone):
        result = await search.search(db, someone.principal, backend, SearchRequest(q="预拌混凝土", kinds=["topic"]))
        return sorted(r.item.title for r in result.results)

    assert await titles(insider) == ["預拌混凝土 併購", "預拌混凝土 配方"]
    assert await titles(outsider) == ["預拌混凝土 配方"]
    await service.leave(db, insider.principal, secret.id)
    assert await titles(insider) == ["預拌混凝土 配方"]


async def test_titles_and_notifications_read_mentions_as_names(db, make_person, community):
    owner = await make_person("Owner")
    reader = await make_person("讀者")
    made = await community(owner, "Town hall", members=[reader])
    status = await content.create_item(db, owner.principal, kind="status", community=made, title_required=False,
                                       values={"body": f"**請看** @[讀者]({reader.id}) [連結](https://example.com)"})
    assert content.excerpt(status) == "請看 @讀者 連結"
    told = await db.scalar(select(Notification).where(Notification.kind == "mentioned"))
    assert told.data["title"] == "請看 @讀者 連結"
