"""search: an item hidden, restored or deleted queues its children (comments, replies, attachments) for the index,
which keeps them out while their parent is out

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-23 20:10:00
"""
from alembic import op


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

# Beside item_search_update (0008), which queues the changed rows themselves. Only a change of hidden_at or
# deleted_at reaches the children: a parent's counters change with every comment.
ENQUEUE_CHILDREN_FUNCTION = """
CREATE FUNCTION search_outbox_enqueue_item_children() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_outbox (kind, item_id)
    SELECT child.kind, child.id
    FROM changed JOIN before ON before.id = changed.id JOIN item child ON child.parent_id = changed.id
    WHERE changed.hidden_at IS DISTINCT FROM before.hidden_at
       OR changed.deleted_at IS DISTINCT FROM before.deleted_at;
    IF FOUND THEN
        PERFORM pg_notify('search_outbox', 'item');
    END IF;
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.execute(ENQUEUE_CHILDREN_FUNCTION)
    op.execute("""
        CREATE TRIGGER item_search_children AFTER UPDATE ON item
            REFERENCING OLD TABLE AS before NEW TABLE AS changed
            FOR EACH STATEMENT EXECUTE FUNCTION search_outbox_enqueue_item_children()
    """)
    # Children already indexed under a parent hidden or deleted before this trigger existed.
    op.execute("""
        INSERT INTO search_outbox (kind, item_id)
        SELECT child.kind, child.id FROM item child JOIN item parent ON parent.id = child.parent_id
        WHERE parent.hidden_at IS NOT NULL OR parent.deleted_at IS NOT NULL
    """)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS item_search_children ON item")
    op.execute("DROP FUNCTION IF EXISTS search_outbox_enqueue_item_children()")
