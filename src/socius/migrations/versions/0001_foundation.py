"""foundation: people, accounts, audit, job queue

Revision ID: 0001
Revises: 
Create Date: 2026-11-23 04:13:38.681748
"""
from importlib.resources import files

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The job queue's tables and functions, as the installed procrastinate defines them.
    op.execute(files("procrastinate.sql").joinpath("schema.sql").read_text())
    op.create_table('login_failure',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_failure'))
    )
    op.create_index('ix_login_failure_key_at', 'login_failure', ['key', 'at'], unique=False)
    op.create_table('person',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('name_native', sa.String(length=200), nullable=True),
    sa.Column('name_latin', sa.String(length=200), nullable=True),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=True),
    sa.Column('department', sa.String(length=200), nullable=True),
    sa.Column('location', sa.String(length=200), nullable=True),
    sa.Column('time_zone', sa.String(length=64), nullable=True),
    sa.Column('phone', sa.String(length=64), nullable=True),
    sa.Column('languages', postgresql.ARRAY(sa.String(length=35)), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('manager_id', sa.BigInteger(), nullable=True),
    sa.Column('about_md', sa.Text(), server_default='', nullable=False),
    sa.Column('about_html', sa.Text(), server_default='', nullable=False),
    sa.Column('links', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'"), nullable=False),
    sa.Column('role', sa.String(length=16), server_default='member', nullable=False),
    sa.Column('deactivated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('locale', sa.String(length=16), nullable=True),
    sa.Column('guest_hidden', postgresql.ARRAY(sa.String(length=32)), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('has_photo', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('sort_key', sa.String(length=400), server_default='', nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['manager_id'], ['person.id'], name=op.f('fk_person_manager_id_person'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person')),
    sa.UniqueConstraint('email', name=op.f('uq_person_email'))
    )
    op.create_index(op.f('ix_person_department'), 'person', ['department'], unique=False)
    op.create_index('ix_person_directory_order', 'person', ['sort_key', 'id'], unique=False)
    op.create_index('ix_person_language', 'person', ['languages'], unique=False, postgresql_using='gin')
    op.create_index(op.f('ix_person_location'), 'person', ['location'], unique=False)
    op.create_index(op.f('ix_person_manager_id'), 'person', ['manager_id'], unique=False)
    op.create_table('account',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('person_id', sa.BigInteger(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('password_changed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_account_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account')),
    sa.UniqueConstraint('person_id', name=op.f('uq_account_person_id')),
    sa.UniqueConstraint('username', name=op.f('uq_account_username'))
    )
    op.create_table('api_token',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('person_id', sa.BigInteger(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_api_token_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_token')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_token_token_hash'))
    )
    op.create_index(op.f('ix_api_token_person_id'), 'api_token', ['person_id'], unique=False)
    op.create_table('audit_entry',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('actor_id', sa.BigInteger(), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('object_type', sa.String(length=32), nullable=False),
    sa.Column('object_id', sa.String(length=64), nullable=False),
    sa.Column('old', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('new', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('ip', sa.String(length=64), server_default='', nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['person.id'], name=op.f('fk_audit_entry_actor_id_person'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entry'))
    )
    op.create_index('ix_audit_entry_actor', 'audit_entry', ['actor_id', 'at'], unique=False)
    op.create_index('ix_audit_entry_at', 'audit_entry', ['at'], unique=False)
    op.create_index('ix_audit_entry_object', 'audit_entry', ['object_type', 'object_id', 'at'], unique=False)
    op.create_table('person_name_key',
    sa.Column('person_id', sa.BigInteger(), nullable=False),
    sa.Column('key', sa.String(length=400), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_person_name_key_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('person_id', 'key', name=op.f('pk_person_name_key'))
    )
    op.create_index('ix_person_name_key_prefix', 'person_name_key', ['key', 'person_id'], unique=False, postgresql_ops={'key': 'text_pattern_ops'})
    op.create_table('person_photo',
    sa.Column('person_id', sa.BigInteger(), nullable=False),
    sa.Column('large', sa.LargeBinary(), nullable=False),
    sa.Column('small', sa.LargeBinary(), nullable=False),
    sa.Column('etag', sa.String(length=64), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_person_photo_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('person_id', name=op.f('pk_person_photo'))
    )
    op.create_table('web_session',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('person_id', sa.BigInteger(), nullable=False),
    sa.Column('csrf_secret', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_agent', sa.String(length=300), server_default='', nullable=False),
    sa.Column('ip', sa.String(length=64), server_default='', nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_web_session_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_web_session'))
    )
    op.create_index(op.f('ix_web_session_person_id'), 'web_session', ['person_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_web_session_person_id'), table_name='web_session')
    op.drop_table('web_session')
    op.drop_table('person_photo')
    op.drop_index('ix_person_name_key_prefix', table_name='person_name_key', postgresql_ops={'key': 'text_pattern_ops'})
    op.drop_table('person_name_key')
    op.drop_index('ix_audit_entry_object', table_name='audit_entry')
    op.drop_index('ix_audit_entry_at', table_name='audit_entry')
    op.drop_index('ix_audit_entry_actor', table_name='audit_entry')
    op.drop_table('audit_entry')
    op.drop_index(op.f('ix_api_token_person_id'), table_name='api_token')
    op.drop_table('api_token')
    op.drop_table('account')
    op.drop_index(op.f('ix_person_manager_id'), table_name='person')
    op.drop_index(op.f('ix_person_location'), table_name='person')
    op.drop_index('ix_person_language', table_name='person', postgresql_using='gin')
    op.drop_index('ix_person_directory_order', table_name='person')
    op.drop_index(op.f('ix_person_department'), table_name='person')
    op.drop_table('person')
    op.drop_index('ix_login_failure_key_at', table_name='login_failure')
    op.drop_table('login_failure')
