"""directory: name keys in directory order

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 05:03:45.144166
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Keys in the "C" collation: one btree then serves a prefix LIKE and the directory order at once.
    op.alter_column('person_name_key', 'key', type_=sa.String(length=400, collation='C'),
                    existing_type=sa.String(length=400), existing_nullable=False)
    op.add_column('person_name_key', sa.Column('sort_key', sa.String(length=400, collation='C'), server_default='', nullable=False))
    op.execute("UPDATE person_name_key k SET sort_key = p.sort_key FROM person p WHERE p.id = k.person_id")
    op.drop_index(op.f('ix_person_name_key_prefix'), table_name='person_name_key', postgresql_ops={'key': 'text_pattern_ops'})
    op.create_index('ix_person_name_key_lookup', 'person_name_key', ['key', 'sort_key', 'person_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_person_name_key_lookup', table_name='person_name_key')
    op.create_index(op.f('ix_person_name_key_prefix'), 'person_name_key', ['key', 'person_id'], unique=False, postgresql_ops={'key': 'text_pattern_ops'})
    op.drop_column('person_name_key', 'sort_key')
    op.alter_column('person_name_key', 'key', type_=sa.String(length=400), existing_nullable=False)
