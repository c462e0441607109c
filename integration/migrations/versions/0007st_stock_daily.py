"""The stock page: a daily snapshot of the ledger per SKU x warehouse (the ledger keeps only the
present), seeded with today's counts; and (shop_id, sku) indexes on variants and allocations for
the page's SKU list and its per-SKU sales series.

Revision ID: 0007st
Revises: 0006
Create Date: 2026-12-10 09:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0007st'
down_revision = '0006'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('stock_daily',
    sa.Column('id', ID, nullable=False),
    sa.Column('shop_id', ID, nullable=False),
    sa.Column('warehouse_id', ID, nullable=False),
    sa.Column('sku', sa.String(length=255), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('on_hand', sa.Integer(), nullable=False),
    sa.Column('reserved', sa.Integer(), nullable=False),
    sa.Column('inbound', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_stock_daily_shop_id_shops'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_stock_daily_warehouse_id_warehouses'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_daily')),
    sa.UniqueConstraint('warehouse_id', 'sku', 'day', name=op.f('uq_stock_daily_warehouse_id_sku_day'))
    )
    with op.batch_alter_table('stock_daily', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stock_daily_shop_id'), ['shop_id'], unique=False)
    with op.batch_alter_table('variants', schema=None) as batch_op:
        batch_op.create_index('ix_variants_shop_id_sku', ['shop_id', 'sku'], unique=False)
    with op.batch_alter_table('allocations', schema=None) as batch_op:
        batch_op.create_index('ix_allocations_shop_id_sku', ['shop_id', 'sku'], unique=False)
    # History starts today: the counts the ledger holds now are today's first snapshot.
    today = "(now() AT TIME ZONE 'utc')::date" if op.get_bind().dialect.name == 'postgresql' else "date('now')"
    op.execute(f"INSERT INTO stock_daily (shop_id, warehouse_id, sku, day, on_hand, reserved, inbound) "
               f"SELECT shop_id, warehouse_id, sku, {today}, on_hand, reserved, inbound FROM stock_levels")


def downgrade() -> None:
    with op.batch_alter_table('allocations', schema=None) as batch_op:
        batch_op.drop_index('ix_allocations_shop_id_sku')
    with op.batch_alter_table('variants', schema=None) as batch_op:
        batch_op.drop_index('ix_variants_shop_id_sku')
    with op.batch_alter_table('stock_daily', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stock_daily_shop_id'))
    op.drop_table('stock_daily')
