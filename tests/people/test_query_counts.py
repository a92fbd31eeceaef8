"""Hot pages run a fixed number of queries, however many people they show (no N+1)."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event


@contextmanager
def counting(database):
    statements: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    engine = database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


async def _team(make_person, manager_id: int, size: int, prefix: str):
    return [await make_person(f"{prefix} {i}", username=f"{prefix.lower()}{i}", manager_id=manager_id,
                              department="R&D") for i in range(size)]


async def test_profile_page_queries_do_not_grow_with_the_team(client, database, make_person, member, login):
    boss = await make_person("Big Boss", username="boss")
    small = await make_person("Small Lead", username="smalllead", manager_id=boss.id)
    large = await make_person("Large Lead", username="largelead", manager_id=boss.id)
    await _team(make_person, small.id, 1, "Solo")
    await _team(make_person, large.id, 12, "Crew")
    await login(client, member)
    await client.get("/people")

    with counting(database) as few:
        assert (await client.get(f"/people/{small.id}")).status_code == 200
    with counting(database) as many:
        assert (await client.get(f"/people/{large.id}")).status_code == 200
    assert len(many) == len(few) <= 10, many


async def test_directory_api_queries_do_not_grow_with_the_page(app, database, make_person, member, bearer):
    lead = await make_person("Lead", username="lead")
    await _team(make_person, lead.id, 25, "Member")
    api = await bearer(app, member)
    await api.get("/api/v1/me")  # the first use of a token records it (once a minute): not part of the count

    with counting(database) as small_page:
        assert len((await api.get("/api/v1/people", params={"q": "member", "limit": 2})).json()["items"]) == 2
    with counting(database) as big_page:
        assert len((await api.get("/api/v1/people", params={"q": "member", "limit": 20})).json()["items"]) == 20
    assert len(big_page) == len(small_page) <= 6, big_page
