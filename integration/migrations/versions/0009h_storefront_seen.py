"""The first storefront (app proxy) call of a shop is recorded, so the admin's setup guide knows
the storefront block is live.

Revision ID: 0009h
Revises: 0008o
Create Date: 2026-12-07 15:30:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0009h'
down_revision = '0008o'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('shop_settings', sa.Column('storefront_seen_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('shop_settings') as batch:
        batch.drop_column('storefront_seen_at')
