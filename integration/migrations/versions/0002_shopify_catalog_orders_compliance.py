"""Shopify data: locations, variants, inventory levels, orders, fulfillments, compliance requests,
import runs; shop profile columns.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 02:53:49.610457
"""

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('compliance_requests',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('topic', sa.String(length=64), nullable=False),
    sa.Column('customer_external_id', sa.String(length=64), nullable=True),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('export', sa.JSON(), nullable=True),
    sa.Column('summary', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_compliance_requests_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_compliance_requests'))
    )
    with op.batch_alter_table('compliance_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_compliance_requests_customer_external_id'), ['customer_external_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_compliance_requests_shop_id'), ['shop_id'], unique=False)

    op.create_table('import_runs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('bulk_operation_id', sa.String(length=128), nullable=True),
    sa.Column('locations', sa.Integer(), nullable=False),
    sa.Column('variants', sa.Integer(), nullable=False),
    sa.Column('inventory_levels', sa.Integer(), nullable=False),
    sa.Column('lines_read', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_import_runs_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_runs'))
    )
    with op.batch_alter_table('import_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_import_runs_bulk_operation_id'), ['bulk_operation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_import_runs_shop_id'), ['shop_id'], unique=False)

    op.create_table('inventory_levels',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('inventory_item_id', sa.String(length=64), nullable=False),
    sa.Column('location_shopify_id', sa.String(length=64), nullable=False),
    sa.Column('available', sa.Integer(), nullable=False),
    sa.Column('external_updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_inventory_levels_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inventory_levels')),
    sa.UniqueConstraint('shop_id', 'inventory_item_id', 'location_shopify_id', name=op.f('uq_inventory_levels_shop_id_inventory_item_id_location_shopify_id'))
    )
    with op.batch_alter_table('inventory_levels', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inventory_levels_shop_id'), ['shop_id'], unique=False)

    op.create_table('locations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('shopify_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('address', sa.String(length=500), nullable=True),
    sa.Column('country_code', sa.String(length=2), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('external_updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_locations_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_locations')),
    sa.UniqueConstraint('shop_id', 'shopify_id', name=op.f('uq_locations_shop_id_shopify_id'))
    )
    with op.batch_alter_table('locations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_locations_shop_id'), ['shop_id'], unique=False)

    op.create_table('orders',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('external_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('customer_external_id', sa.String(length=64), nullable=True),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('phone', sa.String(length=64), nullable=True),
    sa.Column('customer_name', sa.String(length=255), nullable=True),
    sa.Column('shipping_address', sa.JSON(), nullable=True),
    sa.Column('billing_address', sa.JSON(), nullable=True),
    sa.Column('shipping_country', sa.String(length=2), nullable=True),
    sa.Column('locale', sa.String(length=16), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('total_price', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('financial_status', sa.String(length=32), nullable=True),
    sa.Column('fulfillment_status', sa.String(length=32), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('redacted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('external_created_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('external_updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_orders_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orders')),
    sa.UniqueConstraint('shop_id', 'channel', 'external_id', name=op.f('uq_orders_shop_id_channel_external_id'))
    )
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_orders_customer_external_id'), ['customer_external_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_orders_email'), ['email'], unique=False)
        batch_op.create_index(batch_op.f('ix_orders_shop_id'), ['shop_id'], unique=False)

    op.create_table('variants',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('shopify_id', sa.String(length=64), nullable=False),
    sa.Column('product_shopify_id', sa.String(length=64), nullable=False),
    sa.Column('inventory_item_id', sa.String(length=64), nullable=True),
    sa.Column('sku', sa.String(length=255), nullable=True),
    sa.Column('barcode', sa.String(length=255), nullable=True),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('external_updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_variants_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_variants')),
    sa.UniqueConstraint('shop_id', 'shopify_id', name=op.f('uq_variants_shop_id_shopify_id'))
    )
    with op.batch_alter_table('variants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_variants_inventory_item_id'), ['inventory_item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_variants_product_shopify_id'), ['product_shopify_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_variants_shop_id'), ['shop_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_variants_sku'), ['sku'], unique=False)

    op.create_table('fulfillments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('external_id', sa.String(length=64), nullable=False),
    sa.Column('order_external_id', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=32), nullable=True),
    sa.Column('shipment_status', sa.String(length=32), nullable=True),
    sa.Column('tracking_company', sa.String(length=255), nullable=True),
    sa.Column('tracking_number', sa.String(length=255), nullable=True),
    sa.Column('tracking_url', sa.Text(), nullable=True),
    sa.Column('external_updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_fulfillments_order_id_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_fulfillments_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fulfillments')),
    sa.UniqueConstraint('shop_id', 'external_id', name=op.f('uq_fulfillments_shop_id_external_id'))
    )
    with op.batch_alter_table('fulfillments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fulfillments_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_fulfillments_shop_id'), ['shop_id'], unique=False)

    op.create_table('order_lines',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('external_id', sa.String(length=64), nullable=False),
    sa.Column('variant_external_id', sa.String(length=64), nullable=True),
    sa.Column('sku', sa.String(length=255), nullable=True),
    sa.Column('name', sa.String(length=500), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('price', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_order_lines_order_id_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_lines')),
    sa.UniqueConstraint('order_id', 'external_id', name=op.f('uq_order_lines_order_id_external_id'))
    )
    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_lines_order_id'), ['order_id'], unique=False)

    with op.batch_alter_table('shops', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('email', sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column('currency', sa.String(length=3), nullable=True))
        batch_op.add_column(sa.Column('country_code', sa.String(length=2), nullable=True))
        batch_op.add_column(sa.Column('primary_locale', sa.String(length=16), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('shops', schema=None) as batch_op:
        batch_op.drop_column('primary_locale')
        batch_op.drop_column('country_code')
        batch_op.drop_column('currency')
        batch_op.drop_column('email')
        batch_op.drop_column('name')

    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_lines_order_id'))

    op.drop_table('order_lines')
    with op.batch_alter_table('fulfillments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fulfillments_shop_id'))
        batch_op.drop_index(batch_op.f('ix_fulfillments_order_id'))

    op.drop_table('fulfillments')
    with op.batch_alter_table('variants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_variants_sku'))
        batch_op.drop_index(batch_op.f('ix_variants_shop_id'))
        batch_op.drop_index(batch_op.f('ix_variants_product_shopify_id'))
        batch_op.drop_index(batch_op.f('ix_variants_inventory_item_id'))

    op.drop_table('variants')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_orders_shop_id'))
        batch_op.drop_index(batch_op.f('ix_orders_email'))
        batch_op.drop_index(batch_op.f('ix_orders_customer_external_id'))

    op.drop_table('orders')
    with op.batch_alter_table('locations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_locations_shop_id'))

    op.drop_table('locations')
    with op.batch_alter_table('inventory_levels', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inventory_levels_shop_id'))

    op.drop_table('inventory_levels')
    with op.batch_alter_table('import_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_import_runs_shop_id'))
        batch_op.drop_index(batch_op.f('ix_import_runs_bulk_operation_id'))

    op.drop_table('import_runs')
    with op.batch_alter_table('compliance_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_compliance_requests_shop_id'))
        batch_op.drop_index(batch_op.f('ix_compliance_requests_customer_external_id'))

    op.drop_table('compliance_requests')
