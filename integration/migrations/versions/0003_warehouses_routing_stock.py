"""Warehouses: accounts, warehouses, routing rules, stock ledger, allocations, outbound orders,
shipments, tracking events, alerts, shop settings, channel stock; orders.allocated_at.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 03:07:31.767531
"""

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('alerts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('subject', sa.String(length=128), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_alerts_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alerts')),
    sa.UniqueConstraint('shop_id', 'kind', 'subject', name=op.f('uq_alerts_shop_id_kind_subject'))
    )
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alerts_shop_id'), ['shop_id'], unique=False)

    op.create_table('channel_stock',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('item_id', sa.String(length=255), nullable=False),
    sa.Column('location_id', sa.String(length=64), nullable=False),
    sa.Column('sku', sa.String(length=255), nullable=True),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('pushed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_channel_stock_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_channel_stock')),
    sa.UniqueConstraint('shop_id', 'channel', 'item_id', 'location_id', name=op.f('uq_channel_stock_shop_id_channel_item_id_location_id'))
    )
    with op.batch_alter_table('channel_stock', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_channel_stock_shop_id'), ['shop_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_channel_stock_sku'), ['sku'], unique=False)

    op.create_table('shop_settings',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('split_orders', sa.Boolean(), nullable=False),
    sa.Column('safety_stock', sa.Integer(), nullable=False),
    sa.Column('channel_buffers', sa.JSON(), nullable=False),
    sa.Column('customer_notices_by', sa.String(length=16), nullable=False),
    sa.Column('low_stock_threshold', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_shop_settings_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shop_settings')),
    sa.UniqueConstraint('shop_id', name=op.f('uq_shop_settings_shop_id'))
    )
    op.create_table('warehouse_accounts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('provider', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('credentials', sa.Text(), nullable=False),
    sa.Column('endpoint', sa.String(length=500), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_warehouse_accounts_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_warehouse_accounts'))
    )
    with op.batch_alter_table('warehouse_accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_warehouse_accounts_shop_id'), ['shop_id'], unique=False)

    op.create_table('warehouses',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('location_shopify_id', sa.String(length=64), nullable=True),
    sa.Column('country_code', sa.String(length=2), nullable=False),
    sa.Column('region', sa.String(length=32), nullable=True),
    sa.Column('handling_hours', sa.Integer(), nullable=False),
    sa.Column('transit_days', sa.JSON(), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['warehouse_accounts.id'], name=op.f('fk_warehouses_account_id_warehouse_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_warehouses_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_warehouses')),
    sa.UniqueConstraint('account_id', 'code', name=op.f('uq_warehouses_account_id_code')),
    sa.UniqueConstraint('shop_id', 'location_shopify_id', name=op.f('uq_warehouses_shop_id_location_shopify_id'))
    )
    with op.batch_alter_table('warehouses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_warehouses_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_warehouses_shop_id'), ['shop_id'], unique=False)

    op.create_table('outbound_orders',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('warehouse_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('reference', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('external_id', sa.String(length=128), nullable=True),
    sa.Column('warehouse_status', sa.String(length=32), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('pushed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sla_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sla_alerted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('shipped_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_outbound_orders_order_id_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_outbound_orders_shop_id_shops'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_outbound_orders_warehouse_id_warehouses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbound_orders')),
    sa.UniqueConstraint('order_id', 'warehouse_id', name=op.f('uq_outbound_orders_order_id_warehouse_id')),
    sa.UniqueConstraint('reference', name=op.f('uq_outbound_orders_reference'))
    )
    with op.batch_alter_table('outbound_orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbound_orders_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbound_orders_shop_id'), ['shop_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbound_orders_sla_due_at'), ['sla_due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbound_orders_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbound_orders_warehouse_id'), ['warehouse_id'], unique=False)

    op.create_table('routing_rules',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('warehouse_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('sku', sa.String(length=255), nullable=True),
    sa.Column('country_code', sa.String(length=2), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_routing_rules_shop_id_shops'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_routing_rules_warehouse_id_warehouses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_routing_rules'))
    )
    with op.batch_alter_table('routing_rules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_routing_rules_shop_id'), ['shop_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_routing_rules_warehouse_id'), ['warehouse_id'], unique=False)

    op.create_table('stock_levels',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('warehouse_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('sku', sa.String(length=255), nullable=False),
    sa.Column('on_hand', sa.Integer(), nullable=False),
    sa.Column('reserved', sa.Integer(), nullable=False),
    sa.Column('inbound', sa.Integer(), nullable=False),
    sa.Column('inbound_eta', sa.DateTime(timezone=True), nullable=True),
    sa.Column('on_hand_as_of', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('on_hand >= 0', name=op.f('ck_stock_levels_on_hand_not_negative')),
    sa.CheckConstraint('reserved >= 0', name=op.f('ck_stock_levels_reserved_not_negative')),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_stock_levels_shop_id_shops'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_stock_levels_warehouse_id_warehouses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_levels')),
    sa.UniqueConstraint('warehouse_id', 'sku', name=op.f('uq_stock_levels_warehouse_id_sku'))
    )
    with op.batch_alter_table('stock_levels', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stock_levels_shop_id'), ['shop_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_stock_levels_sku'), ['sku'], unique=False)

    op.create_table('allocations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('order_line_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('warehouse_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('outbound_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('sku', sa.String(length=255), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_allocations_order_id_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['order_line_id'], ['order_lines.id'], name=op.f('fk_allocations_order_line_id_order_lines'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['outbound_id'], ['outbound_orders.id'], name=op.f('fk_allocations_outbound_id_outbound_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_allocations_shop_id_shops'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_allocations_warehouse_id_warehouses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_allocations'))
    )
    with op.batch_alter_table('allocations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_allocations_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_allocations_order_line_id'), ['order_line_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_allocations_outbound_id'), ['outbound_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_allocations_shop_id'), ['shop_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_allocations_warehouse_id'), ['warehouse_id'], unique=False)

    op.create_table('shipments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('outbound_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('tracking_number', sa.String(length=128), nullable=False),
    sa.Column('carrier', sa.String(length=128), nullable=True),
    sa.Column('tracking_url', sa.Text(), nullable=True),
    sa.Column('lines', sa.JSON(), nullable=False),
    sa.Column('shipped_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('shopify_fulfillment_id', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('status_reason', sa.String(length=32), nullable=True),
    sa.Column('status_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_shipments_order_id_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['outbound_id'], ['outbound_orders.id'], name=op.f('fk_shipments_outbound_id_outbound_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_shipments_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shipments')),
    sa.UniqueConstraint('outbound_id', 'tracking_number', name=op.f('uq_shipments_outbound_id_tracking_number'))
    )
    with op.batch_alter_table('shipments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shipments_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_shipments_outbound_id'), ['outbound_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_shipments_shop_id'), ['shop_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_shipments_tracking_number'), ['tracking_number'], unique=False)

    op.create_table('tracking_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('shipment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=True),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('location', sa.String(length=255), nullable=True),
    sa.Column('raw_code', sa.String(length=64), nullable=True),
    sa.Column('shopify_event_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipments.id'], name=op.f('fk_tracking_events_shipment_id_shipments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_tracking_events_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tracking_events')),
    sa.UniqueConstraint('shipment_id', 'status', 'occurred_at', name=op.f('uq_tracking_events_shipment_id_status_occurred_at'))
    )
    with op.batch_alter_table('tracking_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tracking_events_shipment_id'), ['shipment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tracking_events_shop_id'), ['shop_id'], unique=False)

    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('allocated_at', sa.DateTime(timezone=True), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_column('allocated_at')

    with op.batch_alter_table('tracking_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tracking_events_shop_id'))
        batch_op.drop_index(batch_op.f('ix_tracking_events_shipment_id'))

    op.drop_table('tracking_events')
    with op.batch_alter_table('shipments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shipments_tracking_number'))
        batch_op.drop_index(batch_op.f('ix_shipments_shop_id'))
        batch_op.drop_index(batch_op.f('ix_shipments_outbound_id'))
        batch_op.drop_index(batch_op.f('ix_shipments_order_id'))

    op.drop_table('shipments')
    with op.batch_alter_table('allocations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_allocations_warehouse_id'))
        batch_op.drop_index(batch_op.f('ix_allocations_shop_id'))
        batch_op.drop_index(batch_op.f('ix_allocations_outbound_id'))
        batch_op.drop_index(batch_op.f('ix_allocations_order_line_id'))
        batch_op.drop_index(batch_op.f('ix_allocations_order_id'))

    op.drop_table('allocations')
    with op.batch_alter_table('stock_levels', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stock_levels_sku'))
        batch_op.drop_index(batch_op.f('ix_stock_levels_shop_id'))

    op.drop_table('stock_levels')
    with op.batch_alter_table('routing_rules', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_routing_rules_warehouse_id'))
        batch_op.drop_index(batch_op.f('ix_routing_rules_shop_id'))

    op.drop_table('routing_rules')
    with op.batch_alter_table('outbound_orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbound_orders_warehouse_id'))
        batch_op.drop_index(batch_op.f('ix_outbound_orders_status'))
        batch_op.drop_index(batch_op.f('ix_outbound_orders_sla_due_at'))
        batch_op.drop_index(batch_op.f('ix_outbound_orders_shop_id'))
        batch_op.drop_index(batch_op.f('ix_outbound_orders_order_id'))

    op.drop_table('outbound_orders')
    with op.batch_alter_table('warehouses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_warehouses_shop_id'))
        batch_op.drop_index(batch_op.f('ix_warehouses_account_id'))

    op.drop_table('warehouses')
    with op.batch_alter_table('warehouse_accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_warehouse_accounts_shop_id'))

    op.drop_table('warehouse_accounts')
    op.drop_table('shop_settings')
    with op.batch_alter_table('channel_stock', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_channel_stock_sku'))
        batch_op.drop_index(batch_op.f('ix_channel_stock_shop_id'))

    op.drop_table('channel_stock')
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alerts_shop_id'))

    op.drop_table('alerts')
