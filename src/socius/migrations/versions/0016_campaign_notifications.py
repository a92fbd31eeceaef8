"""notifications: the campaign a notification happened in, for the visibility check made when it is shown or
mailed (backfilled from the links of the ideas' and campaigns' notifications)

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-23 17:50:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('notification', sa.Column('campaign_id', sa.BigInteger(), nullable=True))
    op.create_foreign_key(op.f('fk_notification_campaign_id_campaign'), 'notification', 'campaign',
                          ['campaign_id'], ['id'], ondelete='CASCADE')
    # Earlier campaign notifications link to /ideas/<id>[/review] or /campaigns/<id>: the campaign follows.
    op.execute("""
        UPDATE notification n SET campaign_id = i.campaign_id
        FROM item i
        WHERE n.campaign_id IS NULL AND i.campaign_id IS NOT NULL
          AND n.url ~ '^/ideas/[0-9]{1,18}(/|$|#|\\?)'
          AND i.id = substring(n.url FROM '^/ideas/([0-9]+)')::bigint
    """)
    op.execute("""
        UPDATE notification n SET campaign_id = c.id
        FROM campaign c
        WHERE n.campaign_id IS NULL AND n.kind = 'campaign_invited'
          AND n.url ~ '^/campaigns/[0-9]{1,18}$'
          AND c.id = substring(n.url FROM '^/campaigns/([0-9]+)')::bigint
    """)
    op.create_index('ix_notification_campaign', 'notification', ['campaign_id'], unique=False,
                    postgresql_where=sa.text('campaign_id IS NOT NULL'))


def downgrade() -> None:
    op.drop_index('ix_notification_campaign', table_name='notification',
                  postgresql_where=sa.text('campaign_id IS NOT NULL'))
    op.drop_constraint(op.f('fk_notification_campaign_id_campaign'), 'notification', type_='foreignkey')
    op.drop_column('notification', 'campaign_id')
