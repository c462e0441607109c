"""An outbound order keeps every number the warehouse gave it: WINIT splits an order it cannot
pick from one stock location and answers with several order numbers (``orderNoList``).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 09:30:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('outbound_orders', sa.Column('external_ids', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outbound_orders') as batch:
        batch.drop_column('external_ids')
