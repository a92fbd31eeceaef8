"""search: the authors and co-authors met in a campaign carry its key (its guests find them); posting in a
campaign, hiding or deleting there, and co-authorship queue the people concerned

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-23 21:30:00
"""
import sqlalchemy as sa
from alembic import op


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

# A new or removed item in a campaign: its author. An item of a campaign hidden, restored or deleted: its author,
# the authors of what is under it, and its co-authors (the directory follows exactly these).
FUNCTIONS = """
CREATE FUNCTION search_outbox_enqueue_campaign_author() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_outbox (kind, item_id)
    SELECT DISTINCT 'person', author_id FROM changed WHERE campaign_id IS NOT NULL AND author_id IS NOT NULL;
    IF FOUND THEN
        PERFORM pg_notify('search_outbox', 'person');
    END IF;
    RETURN NULL;
END
$$;
CREATE FUNCTION search_outbox_enqueue_campaign_authors_shown() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH moved AS (
        SELECT changed.id FROM changed JOIN before ON before.id = changed.id
        WHERE changed.campaign_id IS NOT NULL
          AND (changed.hidden_at IS DISTINCT FROM before.hidden_at
               OR changed.deleted_at IS DISTINCT FROM before.deleted_at)
    )
    INSERT INTO search_outbox (kind, item_id)
    SELECT 'person', i.author_id FROM moved JOIN item i ON i.id = moved.id OR i.parent_id = moved.id
    WHERE i.author_id IS NOT NULL
    UNION
    SELECT 'person', c.person_id FROM moved JOIN idea_coauthor c ON c.idea_id = moved.id;
    IF FOUND THEN
        PERFORM pg_notify('search_outbox', 'person');
    END IF;
    RETURN NULL;
END
$$;
"""
TRIGGERS = """
CREATE TRIGGER item_search_author_insert AFTER INSERT ON item REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION search_outbox_enqueue_campaign_author();
CREATE TRIGGER item_search_author_delete AFTER DELETE ON item REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION search_outbox_enqueue_campaign_author();
CREATE TRIGGER item_search_authors_shown AFTER UPDATE ON item REFERENCING OLD TABLE AS before NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION search_outbox_enqueue_campaign_authors_shown();
CREATE TRIGGER idea_coauthor_search_person_insert AFTER INSERT ON idea_coauthor REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION search_outbox_enqueue_person();
CREATE TRIGGER idea_coauthor_search_person_delete AFTER DELETE ON idea_coauthor REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION search_outbox_enqueue_person();
"""


def upgrade() -> None:
    op.create_index('ix_item_campaign_author', 'item', ['author_id', 'campaign_id'], unique=False,
                    postgresql_where=sa.text('campaign_id IS NOT NULL'))
    op.execute(FUNCTIONS)
    op.execute(TRIGGERS)
    op.execute("""
        INSERT INTO search_outbox (kind, item_id)
        SELECT 'person', author_id FROM item WHERE campaign_id IS NOT NULL AND author_id IS NOT NULL
        UNION SELECT 'person', person_id FROM idea_coauthor
    """)


def downgrade() -> None:
    for trigger, table in (("item_search_author_insert", "item"), ("item_search_author_delete", "item"),
                           ("item_search_authors_shown", "item"),
                           ("idea_coauthor_search_person_insert", "idea_coauthor"),
                           ("idea_coauthor_search_person_delete", "idea_coauthor")):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
    op.execute("DROP FUNCTION IF EXISTS search_outbox_enqueue_campaign_authors_shown()")
    op.execute("DROP FUNCTION IF EXISTS search_outbox_enqueue_campaign_author()")
    op.drop_index('ix_item_campaign_author', table_name='item', postgresql_where=sa.text('campaign_id IS NOT NULL'))
