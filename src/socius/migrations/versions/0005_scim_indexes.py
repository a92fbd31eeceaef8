"""SCIM lookups by index: userName, externalId, displayName, e-mails, lastModified, live users

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 06:40:00.000000
"""
from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The expressions are those of socius.directory.models (SCIM_USER_NAME, …): queries must use them verbatim.
    op.create_index('ix_directory_identity_scim_user_name', 'directory_identity',
                    ['source_id', sa.text("lower((raw #>> '{scim,userName}') COLLATE \"C\")")], unique=False)
    op.create_index('ix_directory_identity_scim_external_id', 'directory_identity',
                    ['source_id', sa.text("(raw #>> '{scim,externalId}')")], unique=False)
    op.create_index('ix_directory_identity_scim_display_name', 'directory_identity',
                    ['source_id', sa.text("lower((raw #>> '{scim,displayName}') COLLATE \"C\")")], unique=False)
    op.create_index('ix_directory_identity_scim_emails', 'directory_identity',
                    [sa.text("(CAST(lower(CAST(raw #> '{scim,emails}' AS TEXT)) AS JSONB)) jsonb_path_ops")],
                    unique=False, postgresql_using='gin')
    op.create_index('ix_directory_identity_scim_live', 'directory_identity', ['source_id', 'id'], unique=False,
                    postgresql_where=sa.text("NOT (raw ? 'deleted')"))
    op.create_index('ix_directory_identity_updated', 'directory_identity', ['source_id', 'updated_at'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_directory_identity_updated', table_name='directory_identity')
    op.drop_index('ix_directory_identity_scim_live', table_name='directory_identity')
    op.drop_index('ix_directory_identity_scim_emails', table_name='directory_identity')
    op.drop_index('ix_directory_identity_scim_display_name', table_name='directory_identity')
    op.drop_index('ix_directory_identity_scim_external_id', table_name='directory_identity')
    op.drop_index('ix_directory_identity_scim_user_name', table_name='directory_identity')
