"""ideas: the "new" list reads an index on (campaign_id, -item_id)

Revision ID: 0015
Revises: 0013
Create Date: 2026-11-23 17:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_idea_new', table_name='idea', postgresql_where=sa.text('merged_into_id IS NULL'))
    op.create_index('ix_idea_new', 'idea', ['campaign_id', sa.literal_column('(-item_id)')], unique=False,
                    postgresql_where=sa.text('merged_into_id IS NULL'))


def downgrade() -> None:
    op.drop_index('ix_idea_new', table_name='idea', postgresql_where=sa.text('merged_into_id IS NULL'))
    op.create_index('ix_idea_new', 'idea', ['campaign_id', sa.literal_column('item_id DESC')], unique=False,
                    postgresql_where=sa.text('merged_into_id IS NULL'))
