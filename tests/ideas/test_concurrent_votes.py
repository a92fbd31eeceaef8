"""Votes cast at the same moment, each in its own committed transaction, as requests would: nothing lost, nothing
counted twice, and a double click counts once."""

from __future__ import annotations

import asyncio
import random

import pytest
from sqlalchemy import func, select

from socius.core.auth import Principal
from socius.core.db import Database
from socius.core.errors import Conflict
from socius.ideas import ranking, service
from socius.ideas.models import Idea, Vote
from socius.people import service as people
from socius.people.models import Role


async def test_concurrent_voters_lose_no_vote_and_a_double_click_counts_once(scratch_database):
    database = Database(scratch_database, pool_size=12)
    try:
        async with database.transaction() as db:
            crowd = [await people.create_person(db, None, display_name=f"Voter {n}", role=Role.MEMBER,
                                                email=f"voter{n}@example.com") for n in range(31)]
            owner, voters = crowd[0], crowd[1:]
            me = Principal(person_id=owner.id, role=Role.MEMBER)
            made = await service.create_campaign(db, me, {"title": "節能挑戰", "brief": "省電",
                                                          "allow_down_votes": True})
            ideas = [(await service.submit_idea(db, me, made.id, {"title": f"點子 {n}", "body": "內容"})).item.id
                     for n in range(3)]
        chance = random.Random(3)
        ballots = [(v.id, chance.choice(ideas), chance.choice([1, 1, -1])) for v in voters for _ in range(2)]
        ballots += [ballots[0]] * 4  # the same person clicking the same button again, at the same moment
        ballots += [(p, i, -v) for p, i, v in ballots[1:6]]  # and some changing their minds

        async def cast(person_id: int, idea_id: int, value: int) -> str:
            try:
                async with database.transaction() as db:
                    await service.vote(db, Principal(person_id=person_id, role=Role.MEMBER), idea_id, value)
            except Conflict:
                return "conflict"
            return "done"

        outcomes = await asyncio.gather(*(cast(*b) for b in ballots))
        distinct = {(p, i) for p, i, _v in ballots}
        assert outcomes.count("done") >= len(distinct)
        async with database.transaction() as db:
            for idea_id in ideas:
                rows = dict((await db.execute(select(Vote.value, func.count()).where(Vote.idea_id == idea_id)
                                              .group_by(Vote.value))).all())
                idea = await db.get(Idea, idea_id)
                assert (idea.up_count, idea.down_count) == (rows.get(1, 0), rows.get(-1, 0))
                assert idea.top == pytest.approx(ranking.wilson(idea.up_count, idea.down_count))
                assert sum(rows.values()) == sum(1 for (_, i) in distinct if i == idea_id)
    finally:
        await database.dispose()
