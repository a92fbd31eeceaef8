"""search outbox and the triggers that fill it

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 07:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

# One function for every searchable table: the trigger names the kind. A module adding a content kind adds the
# three triggers of OUTBOX_TRIGGERS for its table in its own migration.
ENQUEUE_FUNCTION = """
CREATE FUNCTION search_outbox_enqueue() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_outbox (kind, item_id) SELECT TG_ARGV[0], id FROM changed;
    IF FOUND THEN
        PERFORM pg_notify('search_outbox', TG_ARGV[0]);
    END IF;
    RETURN NULL;
END
$$
"""
OUTBOX_TRIGGERS = """
CREATE TRIGGER {table}_search_insert AFTER INSERT ON {table} REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION search_outbox_enqueue('{kind}');
CREATE TRIGGER {table}_search_update AFTER UPDATE ON {table} REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION search_outbox_enqueue('{kind}');
CREATE TRIGGER {table}_search_delete AFTER DELETE ON {table} REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION search_outbox_enqueue('{kind}');
"""


def upgrade() -> None:
    op.create_table('search_outbox',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('item_id', sa.BigInteger(), nullable=False),
    sa.Column('txid', sa.BigInteger(), server_default=sa.text('txid_current()'), nullable=False),
    sa.Column('applied', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('queued_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_outbox'))
    )
    op.create_index('ix_search_outbox_pending', 'search_outbox', ['id'], unique=False,
                    postgresql_where=sa.text('NOT applied'))
    op.execute(ENQUEUE_FUNCTION)
    op.execute(OUTBOX_TRIGGERS.format(table="person", kind="person"))
    # Everyone already there: the indexer picks them up from the outbox like any other change.
    op.execute("INSERT INTO search_outbox (kind, item_id) SELECT 'person', id FROM person ORDER BY id")


def downgrade() -> None:
    for event in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS person_search_{event} ON person")
    op.execute("DROP FUNCTION IF EXISTS search_outbox_enqueue()")
    op.drop_index('ix_search_outbox_pending', table_name='search_outbox', postgresql_where=sa.text('NOT applied'))
    op.drop_table('search_outbox')
