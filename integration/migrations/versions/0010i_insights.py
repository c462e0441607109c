"""Insights (issue #22): daily demand per SKU x warehouse, promotions, lead times, the computed
series, demand shifts, restock and transfer suggestions, inbound shipments and test-sale gates.
At most one open suggestion / shift per key: partial unique indexes (PostgreSQL and SQLite).

Revision ID: 0010i
Revises: 0009h
Create Date: 2026-12-07 16:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0010i'
down_revision = '0009h'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('test_sale_gates',
    sa.Column('id', ID, nullable=False),
    sa.Column('shop_id', ID, nullable=False),
    sa.Column('sku', sa.String(length=255), nullable=False),
    sa.Column('market', sa.String(length=2), nullable=False),
    sa.Column('batch_size', sa.Integer(), nullable=False),
    sa.Column('started_on', sa.Date(), nullable=False),
    sa.Column('sessions', sa.Integer(), nullable=False),
    sa.Column('orders', sa.Integer(), nullable=False),
    sa.Column('conversion', sa.Float(), nullable=True),
    sa.Column('bad_review_rate', sa.Float(), nullable=True),
    sa.Column('return_rate', sa.Float(), nullable=True),
    sa.Column('verdict', sa.String(length=16), nullable=False),
    sa.Column('evaluated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_test_sale_gates_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_test_sale_gates')),
    sa.UniqueConstraint('shop_id', 'sku', 'market', name=op.f('uq_test_sale_gates_shop_id_sku_market'))
    )
    with op.batch_alter_table('test_sale_gates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_test_sale_gates_shop_id'), ['shop_id'], unique=False)
    op.create_table('demand_daily',
    sa.Column('id', ID, nullable=False),
    sa.Column('shop_id', ID, nullable=False),
    sa.Column('warehouse_id', ID, nullable=False),
    sa.Column('sku', sa.String(length=255), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('units', sa.Integer(), nullable=False),
    sa.Column('cancelled', sa.Integer(), nullable=False),
    sa.Column('censored', sa.Boolean(), nullable=False),
    sa.Column('promo', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_demand_daily_shop_id_shops'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_demand_daily_warehouse_id_warehouses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_demand_daily')),
    sa.UniqueConstraint('warehouse_id', 'sku', 'day', name=op.f('uq_demand_daily_warehouse_id_sku_day'))
    )
    with op.batch_alter_table('demand_daily', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_demand_daily_shop_id'), ['shop_id'], unique=False)
    op.create_table('demand_shifts',
    sa.Column('id', ID, nullable=False),
    sa.Column('shop_id', ID, nullable=False),
    sa.Column('warehouse_id', ID, nullable=False),
    sa.Column('sku', sa.String(length=255), nullable=False),
    sa.Column('direction', sa.String(length=8), nullable=False),
    sa.Column('detected_on', sa.Date(), nullable=False),
    sa.Column('change_pct', sa.Float(), nullable=False),
    sa.Column('baseline_daily', sa.Float(), nullable=False),
    sa.Column('recent_daily', sa.Float(), nullable=False),
    sa.Column('reason', sa.String(length=64), nullable=True),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_demand_shifts_shop_id_shops'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_demand_shifts_warehouse_id_warehouses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_demand_shifts'))
    )
    with op.batch_alter_table('demand_shifts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_demand_shifts_shop_id'), ['shop_id'], unique=False)
        batch_op.create_index('uq_demand_shifts_open', ['warehouse_id', 'sku', 'direction'], unique=True, postgresql_where=sa.text('ended_on IS NULL'), sqlite_where=sa.text('ended_on IS NULL'))
    op.create_table('inbound_shipments',
    sa.Column('id', ID, nullable=False),
    sa.Column('shop_id', ID, nullable=False),
    sa.Column('warehouse_id', ID, nullable=False),
    sa.Column('reference', sa.String(length=64), nullable=False),
    sa.Column('external_id', sa.String(length=128), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('lines', sa.JSON(), nullable=False),
    sa.Column('expected_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('intake_booked_for', sa.Date(), nullable=True),
    sa.Column('suggestion_id', ID, nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_inbound_shipments_shop_id_shops'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_inbound_shipments_warehouse_id_warehouses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbound_shipments')),
    sa.UniqueConstraint('reference', name=op.f('uq_inbound_shipments_reference'))
    )
    with op.batch_alter_table('inbound_shipments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inbound_shipments_shop_id'), ['shop_id'], unique=False)
    op.create_table('insight_series',
    sa.Column('id', ID, nullable=False),
    sa.Column('shop_id', ID, nullable=False),
    sa.Column('warehouse_id', ID, nullable=False),
    sa.Column('sku', sa.String(length=255), nullable=False),
    sa.Column('dirty', sa.Boolean(), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('forecast_daily', sa.Float(), nullable=False),
    sa.Column('forecast_sd', sa.Float(), nullable=False),
    sa.Column('available', sa.Integer(), nullable=False),
    sa.Column('days_of_cover', sa.Float(), nullable=True),
    sa.Column('baseline_daily', sa.Float(), nullable=False),
    sa.Column('recent_daily', sa.Float(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_insight_series_shop_id_shops'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_insight_series_warehouse_id_warehouses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_insight_series')),
    sa.UniqueConstraint('warehouse_id', 'sku', name=op.f('uq_insight_series_warehouse_id_sku'))
    )
    with op.batch_alter_table('insight_series', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_insight_series_dirty'), ['dirty'], unique=False)
        batch_op.create_index(batch_op.f('ix_insight_series_shop_id'), ['shop_id'], unique=False)
    op.create_table('lead_times',
    sa.Column('id', ID, nullable=False),
    sa.Column('shop_id', ID, nullable=False),
    sa.Column('warehouse_id', ID, nullable=False),
    sa.Column('sku', sa.String(length=255), nullable=True),
    sa.Column('production_days', sa.Integer(), nullable=False),
    sa.Column('line_haul_days', sa.Integer(), nullable=False),
    sa.Column('customs_days', sa.Integer(), nullable=False),
    sa.Column('receiving_days', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_lead_times_shop_id_shops'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_lead_times_warehouse_id_warehouses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lead_times')),
    sa.UniqueConstraint('warehouse_id', 'sku', name=op.f('uq_lead_times_warehouse_id_sku'))
    )
    with op.batch_alter_table('lead_times', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lead_times_shop_id'), ['shop_id'], unique=False)
    op.create_table('promotions',
    sa.Column('id', ID, nullable=False),
    sa.Column('shop_id', ID, nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('uplift_pct', sa.Integer(), nullable=False),
    sa.Column('sku', sa.String(length=255), nullable=True),
    sa.Column('warehouse_id', ID, nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_promotions_shop_id_shops'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_promotions_warehouse_id_warehouses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_promotions'))
    )
    with op.batch_alter_table('promotions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_promotions_shop_id'), ['shop_id'], unique=False)
    op.create_table('transfer_suggestions',
    sa.Column('id', ID, nullable=False),
    sa.Column('shop_id', ID, nullable=False),
    sa.Column('sku', sa.String(length=255), nullable=False),
    sa.Column('from_warehouse_id', ID, nullable=False),
    sa.Column('to_warehouse_id', ID, nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('expected_arrival', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['from_warehouse_id'], ['warehouses.id'], name=op.f('fk_transfer_suggestions_from_warehouse_id_warehouses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_transfer_suggestions_shop_id_shops'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['to_warehouse_id'], ['warehouses.id'], name=op.f('fk_transfer_suggestions_to_warehouse_id_warehouses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transfer_suggestions'))
    )
    with op.batch_alter_table('transfer_suggestions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_transfer_suggestions_shop_id'), ['shop_id'], unique=False)
        batch_op.create_index('uq_transfer_suggestions_open', ['sku', 'from_warehouse_id', 'to_warehouse_id'], unique=True, postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"))
    op.create_table('restock_suggestions',
    sa.Column('id', ID, nullable=False),
    sa.Column('shop_id', ID, nullable=False),
    sa.Column('warehouse_id', ID, nullable=False),
    sa.Column('sku', sa.String(length=255), nullable=False),
    sa.Column('policy', sa.String(length=16), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('order_up_to', sa.Integer(), nullable=False),
    sa.Column('order_by', sa.Date(), nullable=True),
    sa.Column('forecast_daily', sa.Float(), nullable=False),
    sa.Column('lead_time_days', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('inbound_id', ID, nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['inbound_id'], ['inbound_shipments.id'], name=op.f('fk_restock_suggestions_inbound_id_inbound_shipments'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_restock_suggestions_shop_id_shops'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_restock_suggestions_warehouse_id_warehouses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_restock_suggestions'))
    )
    with op.batch_alter_table('restock_suggestions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_restock_suggestions_shop_id'), ['shop_id'], unique=False)
        batch_op.create_index('uq_restock_suggestions_open', ['warehouse_id', 'sku', 'policy'], unique=True, postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"))



def downgrade() -> None:
    with op.batch_alter_table('restock_suggestions', schema=None) as batch_op:
        batch_op.drop_index('uq_restock_suggestions_open', postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"))
        batch_op.drop_index(batch_op.f('ix_restock_suggestions_shop_id'))
    op.drop_table('restock_suggestions')
    with op.batch_alter_table('transfer_suggestions', schema=None) as batch_op:
        batch_op.drop_index('uq_transfer_suggestions_open', postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"))
        batch_op.drop_index(batch_op.f('ix_transfer_suggestions_shop_id'))
    op.drop_table('transfer_suggestions')
    with op.batch_alter_table('promotions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_promotions_shop_id'))
    op.drop_table('promotions')
    with op.batch_alter_table('lead_times', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lead_times_shop_id'))
    op.drop_table('lead_times')
    with op.batch_alter_table('insight_series', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_insight_series_shop_id'))
        batch_op.drop_index(batch_op.f('ix_insight_series_dirty'))
    op.drop_table('insight_series')
    with op.batch_alter_table('inbound_shipments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbound_shipments_shop_id'))
    op.drop_table('inbound_shipments')
    with op.batch_alter_table('demand_shifts', schema=None) as batch_op:
        batch_op.drop_index('uq_demand_shifts_open', postgresql_where=sa.text('ended_on IS NULL'), sqlite_where=sa.text('ended_on IS NULL'))
        batch_op.drop_index(batch_op.f('ix_demand_shifts_shop_id'))
    op.drop_table('demand_shifts')
    with op.batch_alter_table('demand_daily', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_demand_daily_shop_id'))
    op.drop_table('demand_daily')
    with op.batch_alter_table('test_sale_gates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_test_sale_gates_shop_id'))
    op.drop_table('test_sale_gates')
