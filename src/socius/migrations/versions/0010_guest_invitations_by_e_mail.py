"""guest invitations by e-mail

A new guest invited to a community by e-mail: the one-time link's token (hashed), its expiry, sent and accepted.

Revision ID: 0010
Revises: 0014
Create Date: 2026-11-23 12:12:40.060464
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('guest_invitation',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('community_id', sa.BigInteger(), nullable=False),
    sa.Column('person_id', sa.BigInteger(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('invited_by', sa.BigInteger(), nullable=True),
    sa.Column('locale', sa.String(length=16), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_guest_invitation_community_id_community'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['invited_by'], ['person.id'], name=op.f('fk_guest_invitation_invited_by_person'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_guest_invitation_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_guest_invitation')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_guest_invitation_token_hash'))
    )
    op.create_index(op.f('ix_guest_invitation_community_id'), 'guest_invitation', ['community_id'], unique=False)
    op.create_index(op.f('ix_guest_invitation_person_id'), 'guest_invitation', ['person_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_guest_invitation_person_id'), table_name='guest_invitation')
    op.drop_index(op.f('ix_guest_invitation_community_id'), table_name='guest_invitation')
    op.drop_table('guest_invitation')
