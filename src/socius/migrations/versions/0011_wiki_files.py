"""wiki pages and revisions, file versions

A wiki page and a file are items; these tables hold the page tree, every saved revision and every uploaded
version.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23 12:13:42.489195
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('file_version',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('item_id', sa.BigInteger(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=120), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('storage_key', sa.String(length=80), nullable=False),
    sa.Column('uploaded_by', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], name=op.f('fk_file_version_item_id_item'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by'], ['person.id'], name=op.f('fk_file_version_uploaded_by_person'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_file_version')),
    sa.UniqueConstraint('item_id', 'number', name='uq_file_version_number')
    )
    op.create_table('wiki_page',
    sa.Column('item_id', sa.BigInteger(), nullable=False),
    sa.Column('community_id', sa.BigInteger(), nullable=False),
    sa.Column('parent_page_id', sa.BigInteger(), nullable=True),
    sa.Column('slug', sa.String(length=120), nullable=False),
    sa.Column('position', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_wiki_page_community_id_community'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], name=op.f('fk_wiki_page_item_id_item'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['parent_page_id'], ['wiki_page.item_id'], name=op.f('fk_wiki_page_parent_page_id_wiki_page'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('item_id', name=op.f('pk_wiki_page')),
    sa.UniqueConstraint('community_id', 'slug', name='uq_wiki_page_slug')
    )
    op.create_index('ix_wiki_page_tree', 'wiki_page', ['community_id', 'parent_page_id', 'position'], unique=False)
    op.create_table('wiki_revision',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('item_id', sa.BigInteger(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('body_md', sa.Text(), nullable=False),
    sa.Column('author_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('comment', sa.String(length=300), server_default='', nullable=False),
    sa.Column('restored_from', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['person.id'], name=op.f('fk_wiki_revision_author_id_person'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], name=op.f('fk_wiki_revision_item_id_item'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wiki_revision')),
    sa.UniqueConstraint('item_id', 'number', name='uq_wiki_revision_number')
    )


def downgrade() -> None:
    op.drop_table('wiki_revision')
    op.drop_index('ix_wiki_page_tree', table_name='wiki_page')
    op.drop_table('wiki_page')
    op.drop_table('file_version')
