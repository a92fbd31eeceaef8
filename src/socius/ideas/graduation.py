"""Graduation: a selected idea becomes a project community.

To build (see issue 8): `graduate(db, principal, idea_id, values, *, ip="") -> Community` creates a community with
the idea's team, links idea and community both ways (`idea.project_community_id`), and lets the idea's voters and
followers see the project's status updates.
"""
