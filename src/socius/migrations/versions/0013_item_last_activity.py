"""item.last_activity_at: an item's newest activity, kept on each comment and delete

Revision ID: 0013
Revises: 0011
Create Date: 2026-11-23 15:20:00

The forum's topic list sorted by a correlated subquery per topic (its newest reply): every topic of the community
and every reply were read for each page. The column is set when a comment or reply is posted and recomputed when
one is deleted; one index per community and kind answers "newest activity first" in order.
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0011'
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


def downgrade() -> None:
    op.drop_index('ix_item_community_activity', table_name='item')
    op.drop_column('item', 'last_activity_at')
