"""notification preferences, e-mail, and the community a notification belongs to

A notification about a community goes with it (community_id, cascading).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 11:35:19.901513
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('notification_preference',
    sa.Column('person_id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('in_app', sa.Boolean(), nullable=False),
    sa.Column('email', sa.String(length=16), nullable=False),
    sa.CheckConstraint("email IN ('none', 'immediate', 'daily', 'weekly')", name=op.f('ck_notification_preference_email')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_notification_preference_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('person_id', 'kind', name=op.f('pk_notification_preference'))
    )
    op.add_column('notification', sa.Column('community_id', sa.BigInteger(), nullable=True))
    op.create_foreign_key(op.f('fk_notification_community_id_community'), 'notification', 'community',
                          ['community_id'], ['id'], ondelete='CASCADE')
    op.add_column('notification', sa.Column('in_app', sa.Boolean(), server_default=sa.text('true'), nullable=False))
    op.add_column('notification', sa.Column('emailed_at', sa.DateTime(timezone=True), nullable=True))
    op.create_index('ix_notification_unmailed', 'notification', ['created_at'], unique=False, postgresql_where=sa.text('emailed_at IS NULL AND read_at IS NULL'))


def downgrade() -> None:
    op.drop_index('ix_notification_unmailed', table_name='notification', postgresql_where=sa.text('emailed_at IS NULL AND read_at IS NULL'))
    op.drop_column('notification', 'emailed_at')
    op.drop_column('notification', 'in_app')
    op.drop_constraint(op.f('fk_notification_community_id_community'), 'notification', type_='foreignkey')
    op.drop_column('notification', 'community_id')
    op.drop_table('notification_preference')
