"""item.last_activity_at (an item's newest activity); community.tag_keys (its tags folded); item.accepted_id index

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-23 15:20:00

The forum's topic list sorted by a correlated subquery per topic (its newest reply): every topic of the community
and every reply were read for each page. The column is set when a comment or reply is posted and recomputed when
one is deleted; one index per community and kind answers "newest activity first" in order.

The community catalog filtered tags as typed: 軟體 did not find a community tagged 软件. Each community now keeps
its tags folded as tags are everywhere (NFKC, case, Taiwan and mainland spellings to one key), with the GIN index
moved from the labels to the keys. Existing rows are folded here, in Python (OpenCC).

`item.accepted_id` references `item` (ON DELETE SET NULL) without an index: every deleted item made PostgreSQL
scan the item table for questions that had accepted it, so deleting a community of 4,000 items took 11 s.
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('item', sa.Column('last_activity_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
                                    nullable=False))
    op.execute("""
        UPDATE item SET last_activity_at = coalesce(
            (SELECT max(c.created_at) FROM item c WHERE c.parent_id = item.id AND c.deleted_at IS NULL),
            item.created_at)""")
    op.create_index('ix_item_community_activity', 'item',
                    ['community_id', 'kind', sa.literal_column('last_activity_at DESC'),
                     sa.literal_column('id DESC')], unique=False)

    op.create_index('ix_item_accepted', 'item', ['accepted_id'], unique=False,
                    postgresql_where=sa.text('accepted_id IS NOT NULL'))

    op.add_column('community', sa.Column('tag_keys', postgresql.ARRAY(sa.String(length=200)),
                                         server_default=sa.text("'{}'"), nullable=False))
    from socius.core.text import normalise_term  # what expertise.service.tag_key folds with

    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, tags FROM community WHERE cardinality(tags) > 0")).all()
    for community_id, tags in rows:
        keys = list(dict.fromkeys(" ".join(normalise_term(t).split()) for t in tags))
        bind.execute(sa.text("UPDATE community SET tag_keys = :keys WHERE id = :id"),
                     {"keys": keys, "id": community_id})
    op.drop_index('ix_community_tags', table_name='community', postgresql_using='gin')
    op.create_index('ix_community_tag_keys', 'community', ['tag_keys'], unique=False, postgresql_using='gin')


def downgrade() -> None:
    op.drop_index('ix_community_tag_keys', table_name='community', postgresql_using='gin')
    op.create_index('ix_community_tags', 'community', ['tags'], unique=False, postgresql_using='gin')
    op.drop_column('community', 'tag_keys')
    op.drop_index('ix_item_accepted', table_name='item', postgresql_where=sa.text('accepted_id IS NOT NULL'))
    op.drop_index('ix_item_community_activity', table_name='item')
    op.drop_column('item', 'last_activity_at')
