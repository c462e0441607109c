"""orders: an index on when an order was placed (``coalesce(external_created_at, created_at)``,
per shop). The demand rebuild selects a window's orders by it; without the index PostgreSQL has no
statistics for the expression, guesses a tiny fraction of the orders, and probes the allocations
of every order of the shop once per chunk of series (issue #22).

Revision ID: 0012p_orders_placed_at
Revises: 0011f_feedback
Create Date: 2026-12-07 23:20:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0012p_orders_placed_at'
down_revision = '0011f_feedback'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Concurrently, outside the migration's transaction: a plain CREATE INDEX locks writes to orders
    # while it builds, and on a large store the order webhooks would wait behind it.
    with op.get_context().autocommit_block():
        op.create_index('ix_orders_shop_id_placed_at', 'orders',
                        ['shop_id', sa.text('coalesce(external_created_at, created_at)')], unique=False,
                        postgresql_concurrently=True)


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.drop_index('ix_orders_shop_id_placed_at', table_name='orders', postgresql_concurrently=True)
