"""search: a person's document carries the keys of the communities they are a member of and the campaigns they
manage (their guests find them); memberships and campaign roles queue the person

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-23 21:30:00
"""
from alembic import op


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

TABLES = ("membership", "campaign_member")
# search_outbox_enqueue_person() (0007) queues the rows' person_id.
TRIGGERS = """
CREATE TRIGGER {table}_search_person_insert AFTER INSERT ON {table} REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION search_outbox_enqueue_person();
CREATE TRIGGER {table}_search_person_update AFTER UPDATE ON {table} REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION search_outbox_enqueue_person();
CREATE TRIGGER {table}_search_person_delete AFTER DELETE ON {table} REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION search_outbox_enqueue_person();
"""


def upgrade() -> None:
    for table in TABLES:
        op.execute(TRIGGERS.format(table=table))
    # The people whose documents gain keys.
    op.execute("""
        INSERT INTO search_outbox (kind, item_id)
        SELECT 'person', person_id FROM membership WHERE state = 'active'
        UNION SELECT 'person', person_id FROM campaign_member WHERE role IN ('owner', 'manager')
    """)


def downgrade() -> None:
    for table in TABLES:
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_search_person_{event} ON {table}")
