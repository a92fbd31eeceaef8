"""expertise tags, teams and notifications

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 08:55:11.704238
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

# A person's tags are part of their search document: a change to person_tag queues the person.
ENQUEUE_PERSON_FUNCTION = """
CREATE FUNCTION search_outbox_enqueue_person() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_outbox (kind, item_id) SELECT DISTINCT 'person', person_id FROM changed;
    IF FOUND THEN
        PERFORM pg_notify('search_outbox', 'person');
    END IF;
    RETURN NULL;
END
$$
"""
PERSON_TAG_TRIGGERS = """
CREATE TRIGGER person_tag_search_insert AFTER INSERT ON person_tag REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION search_outbox_enqueue_person();
CREATE TRIGGER person_tag_search_update AFTER UPDATE ON person_tag REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION search_outbox_enqueue_person();
CREATE TRIGGER person_tag_search_delete AFTER DELETE ON person_tag REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION search_outbox_enqueue_person();
"""


def upgrade() -> None:
    op.create_table('tag',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('key', sa.String(length=200, collation='C'), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('merged_into_id', sa.BigInteger(), nullable=True),
    sa.Column('people_count', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['merged_into_id'], ['tag.id'], name=op.f('fk_tag_merged_into_id_tag'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tag')),
    sa.UniqueConstraint('key', name=op.f('uq_tag_key'))
    )
    op.create_index(op.f('ix_tag_merged_into_id'), 'tag', ['merged_into_id'], unique=False)
    op.create_table('notification',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('person_id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('actor_id', sa.BigInteger(), nullable=True),
    sa.Column('data', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('url', sa.String(length=500), server_default='', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['person.id'], name=op.f('fk_notification_actor_id_person'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_notification_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification'))
    )
    op.create_index('ix_notification_person', 'notification', ['person_id', sa.literal_column('id DESC')], unique=False)
    op.create_index('ix_notification_unread', 'notification', ['person_id'], unique=False, postgresql_where=sa.text('read_at IS NULL'))
    op.create_table('person_tag',
    sa.Column('person_id', sa.BigInteger(), nullable=False),
    sa.Column('tag_id', sa.BigInteger(), nullable=False),
    sa.Column('self_tagged', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('colleagues', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('hidden', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('strength', sa.Double(), server_default=sa.text('0'), nullable=False),
    sa.Column('last_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_person_tag_person_id_person'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tag_id'], ['tag.id'], name=op.f('fk_person_tag_tag_id_tag'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('person_id', 'tag_id', name=op.f('pk_person_tag'))
    )
    op.create_index('ix_person_tag_strength', 'person_tag', ['tag_id', sa.literal_column('strength DESC'), 'person_id'], unique=False, postgresql_where=sa.text('NOT hidden'))
    op.create_table('tag_assignment',
    sa.Column('person_id', sa.BigInteger(), nullable=False),
    sa.Column('tag_id', sa.BigInteger(), nullable=False),
    sa.Column('tagger_id', sa.BigInteger(), nullable=False),
    sa.Column('spelling', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_tag_assignment_person_id_person'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tag_id'], ['tag.id'], name=op.f('fk_tag_assignment_tag_id_tag'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tagger_id'], ['person.id'], name=op.f('fk_tag_assignment_tagger_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('person_id', 'tag_id', 'tagger_id', name=op.f('pk_tag_assignment'))
    )
    op.create_index('ix_tag_assignment_tag', 'tag_assignment', ['tag_id', 'person_id'], unique=False)
    op.create_index('ix_tag_assignment_tagger', 'tag_assignment', ['tagger_id', 'created_at'], unique=False)
    op.create_table('tag_spelling',
    sa.Column('tag_id', sa.BigInteger(), nullable=False),
    sa.Column('spelling', sa.String(length=100), nullable=False),
    sa.Column('uses', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.ForeignKeyConstraint(['tag_id'], ['tag.id'], name=op.f('fk_tag_spelling_tag_id_tag'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tag_id', 'spelling', name=op.f('pk_tag_spelling'))
    )
    op.create_table('tag_term',
    sa.Column('term', sa.String(length=200, collation='C'), nullable=False),
    sa.Column('tag_id', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['tag_id'], ['tag.id'], name=op.f('fk_tag_term_tag_id_tag'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('term', 'tag_id', name=op.f('pk_tag_term'))
    )
    op.create_index(op.f('ix_tag_term_tag_id'), 'tag_term', ['tag_id'], unique=False)
    op.create_table('team',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('created_by', sa.BigInteger(), nullable=True),
    sa.Column('skills', postgresql.ARRAY(sa.String(length=100)), nullable=False),
    sa.Column('options', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('members', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('gaps', postgresql.ARRAY(sa.String(length=100)), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['person.id'], name=op.f('fk_team_created_by_person'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_team'))
    )
    op.execute(ENQUEUE_PERSON_FUNCTION)
    op.execute(PERSON_TAG_TRIGGERS)


def downgrade() -> None:
    for event in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS person_tag_search_{event} ON person_tag")
    op.execute("DROP FUNCTION IF EXISTS search_outbox_enqueue_person()")
    op.drop_table('team')
    op.drop_index(op.f('ix_tag_term_tag_id'), table_name='tag_term')
    op.drop_table('tag_term')
    op.drop_table('tag_spelling')
    op.drop_index('ix_tag_assignment_tagger', table_name='tag_assignment')
    op.drop_index('ix_tag_assignment_tag', table_name='tag_assignment')
    op.drop_table('tag_assignment')
    op.drop_index('ix_person_tag_strength', table_name='person_tag', postgresql_where=sa.text('NOT hidden'))
    op.drop_table('person_tag')
    op.drop_index('ix_notification_unread', table_name='notification', postgresql_where=sa.text('read_at IS NULL'))
    op.drop_index('ix_notification_person', table_name='notification')
    op.drop_table('notification')
    op.drop_index(op.f('ix_tag_merged_into_id'), table_name='tag')
    op.drop_table('tag')
