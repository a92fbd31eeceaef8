"""Merging duplicate ideas, and undoing a merge.

To build (see issue 8): `merge(db, principal, source_id, target_id, *, ip="") -> Merge` moves the source's comments,
followers, tags and votes to the target (a person who voted on both counts once), marks the source merged
(stage "merged", `merged_into_id`), records an audit entry and the snapshot undoing needs;
`unmerge(db, principal, merge_id, *, ip="") -> Merge` restores the source as it was.
"""
