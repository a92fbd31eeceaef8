"""Forum, blog and bookmarks as evidence in the expert finder: accepted answers weigh most, and content of a
restricted community is never evidence for someone outside it."""

from __future__ import annotations

from socius.blog import service as blog
from socius.bookmarks import service as bookmarks
from socius.expertise import finder
from socius.forum import service as forum


async def find(db, someone, backend, q):
    return await finder.find_experts(db, someone.principal, backend, finder.ExpertQuery(q=q))


async def test_accepted_answers_outrank_plain_replies(db, make_person, community, backend, index_now):
    owner = await make_person("Owner")
    asker = await make_person("提問者")
    answerer = await make_person("林解答")
    commenter = await make_person("陳留言")
    colleague = await make_person("同事")
    town = await community(owner, "品管社群", members=[asker, answerer, commenter, colleague])
    first = await forum.create_topic(db, asker.principal, town.id, {
        "title": "預拌混凝土出貨後坍落度損失怎麼辦？", "body": "夏天特別明顯", "question": True})
    second = await forum.create_topic(db, asker.principal, town.id, {
        "title": "預拌混凝土的氯離子含量要怎麼驗？", "body": "", "question": True})
    # The accepted answers do not repeat the words of the question; the plain replies do.
    for topic, answer in ((first, "加緩凝劑，並在廠內先調整水灰比。"), (second, "用硝酸銀滴定法。")):
        reply = await forum.reply(db, answerer.principal, topic.id, answer)
        await forum.accept(db, asker.principal, topic.id, reply.id)
    for topic in (first, second):
        await forum.reply(db, commenter.principal, topic.id, "預拌混凝土這個問題我也遇過，預拌混凝土真難。")
    await index_now()

    experts = await find(db, colleague, backend, "预拌混凝土")
    names = [e.person.display_name for e in experts]
    assert names.index("林解答") < names.index("陳留言"), names
    lines = {e.person.display_name: e.evidence.lines() for e in experts}
    assert "gave 2 accepted answers on it" in lines["林解答"]
    assert "wrote 2 forum replies on it" in lines["陳留言"]
    assert "wrote 2 forum topics on it" in lines["提問者"]
    # Taking an acceptance back takes the evidence with it.
    await forum.accept(db, asker.principal, second.id, None)
    lines = {e.person.display_name: e.evidence.lines() for e in await find(db, colleague, backend, "預拌混凝土")}
    assert "gave 1 accepted answer on it" in lines["林解答"]


async def test_blog_entries_and_bookmarks_count_bookmarks_least(db, make_person, community, backend, index_now):
    owner = await make_person("Owner")
    writer = await make_person("寫作者")
    sharer = await make_person("分享者")
    reader = await make_person("讀者")
    town = await community(owner, "Open", members=[writer, sharer])
    await blog.create_entry(db, writer.principal, town.id, {"title": "Kubernetes 升級筆記", "body": "kubernetes"})
    await bookmarks.create_bookmark(db, sharer.principal, town.id, {"url": "https://kubernetes.io/docs/",
                                                                   "title": "Kubernetes docs"})
    await index_now()
    experts = await find(db, reader, backend, "kubernetes")
    assert [e.person.display_name for e in experts] == ["寫作者", "分享者"]
    assert experts[0].evidence.lines() == ["wrote 1 blog entry on it"]
    assert experts[1].evidence.lines() == ["bookmarked 1 page on it"]


async def test_restricted_content_is_never_evidence_for_an_outsider(db, make_person, community, backend,
                                                                      index_now):
    owner = await make_person("Owner")
    asker = await make_person("Asker")
    answerer = await make_person("林解答")
    outsider = await make_person("Outsider")
    secret = await community(owner, "併購小組", access="restricted", members=[asker, answerer])
    topic = await forum.create_topic(db, asker.principal, secret.id, {
        "title": "預拌混凝土廠的併購估值", "body": "機密", "question": True})
    reply = await forum.reply(db, answerer.principal, topic.id, "用現金流折現。")
    await forum.accept(db, asker.principal, topic.id, reply.id)
    await blog.create_entry(db, answerer.principal, secret.id, {"title": "預拌混凝土市場", "body": "機密"})
    await index_now()

    assert await find(db, outsider, backend, "预拌混凝土") == []
    insider_view = {e.person.display_name: e.evidence.lines() for e in await find(db, asker, backend, "预拌混凝土")}
    assert "gave 1 accepted answer on it" in insider_view["林解答"]
    # The database has the last word: someone who left stops seeing it, even before the index catches up.
    hits = {"topic": {topic.id: (asker.id, 1.0)}}
    from socius.communities import service as communities

    await communities.leave(db, asker.principal, secret.id)
    assert await forum.accepted_answers(db, asker.principal, hits) == {}
