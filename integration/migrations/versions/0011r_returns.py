"""Local after-sales (issue #23): returns, their lines and timeline, reships, claims and each
shop's return rules; an outbound order's purpose ("" for the order's own shipment, or the return /
reship a replacement parcel is for), part of its unique key.

Revision ID: 0011r_returns
Revises: 0010i
Create Date: 2026-12-07 19:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0011r_returns'
down_revision = '0010i'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('return_rules',
    sa.Column('shop_id', ID, nullable=False),
    sa.Column('window_days', sa.Integer(), nullable=False),
    sa.Column('accepted_reasons', sa.JSON(), nullable=False),
    sa.Column('non_returnable_skus', sa.JSON(), nullable=False),
    sa.Column('auto_approve', sa.Boolean(), nullable=False),
    sa.Column('reship_when_lost', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_return_rules_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('shop_id', name=op.f('pk_return_rules'))
    )
    op.create_table('returns',
    sa.Column('id', ID, nullable=False),
    sa.Column('shop_id', ID, nullable=False),
    sa.Column('order_id', ID, nullable=False),
    sa.Column('shopify_return_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('priority', sa.Boolean(), nullable=False),
    sa.Column('decided_by', sa.String(length=16), nullable=True),
    sa.Column('decline_reason', sa.String(length=32), nullable=True),
    sa.Column('decline_note', sa.String(length=500), nullable=True),
    sa.Column('warehouse_id', ID, nullable=True),
    sa.Column('rma_reference', sa.String(length=64), nullable=True),
    sa.Column('rma_external_id', sa.String(length=128), nullable=True),
    sa.Column('address', sa.JSON(), nullable=True),
    sa.Column('label_url', sa.Text(), nullable=True),
    sa.Column('tracking_number', sa.String(length=128), nullable=True),
    sa.Column('shopify_approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reverse_delivery_id', sa.String(length=64), nullable=True),
    sa.Column('refund_id', sa.String(length=64), nullable=True),
    sa.Column('refund_amount', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outbound_id', ID, nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('inspected_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_returns_order_id_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['outbound_id'], ['outbound_orders.id'], name=op.f('fk_returns_outbound_id_outbound_orders'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_returns_shop_id_shops'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_returns_warehouse_id_warehouses'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_returns')),
    sa.UniqueConstraint('shop_id', 'shopify_return_id', name=op.f('uq_returns_shop_id_shopify_return_id'))
    )
    with op.batch_alter_table('returns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_returns_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_returns_shop_id'), ['shop_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_returns_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_returns_warehouse_id'), ['warehouse_id'], unique=False)

    op.create_table('reships',
    sa.Column('id', ID, nullable=False),
    sa.Column('shop_id', ID, nullable=False),
    sa.Column('order_id', ID, nullable=False),
    sa.Column('shipment_id', ID, nullable=False),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('lines', sa.JSON(), nullable=False),
    sa.Column('warehouse_id', ID, nullable=True),
    sa.Column('outbound_id', ID, nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('requested_by', sa.String(length=16), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_reships_order_id_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['outbound_id'], ['outbound_orders.id'], name=op.f('fk_reships_outbound_id_outbound_orders'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipments.id'], name=op.f('fk_reships_shipment_id_shipments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_reships_shop_id_shops'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_reships_warehouse_id_warehouses'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reships')),
    sa.UniqueConstraint('shop_id', 'order_id', 'shipment_id', 'reason', name=op.f('uq_reships_shop_id_order_id_shipment_id_reason'))
    )
    with op.batch_alter_table('reships', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reships_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reships_shipment_id'), ['shipment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reships_shop_id'), ['shop_id'], unique=False)

    op.create_table('return_events',
    sa.Column('id', ID, nullable=False),
    sa.Column('return_id', ID, nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['return_id'], ['returns.id'], name=op.f('fk_return_events_return_id_returns'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_return_events')),
    sa.UniqueConstraint('return_id', 'kind', name=op.f('uq_return_events_return_id_kind'))
    )
    with op.batch_alter_table('return_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_return_events_return_id'), ['return_id'], unique=False)

    op.create_table('return_lines',
    sa.Column('id', ID, nullable=False),
    sa.Column('return_id', ID, nullable=False),
    sa.Column('order_line_id', ID, nullable=True),
    sa.Column('shopify_line_id', sa.String(length=64), nullable=False),
    sa.Column('sku', sa.String(length=255), nullable=True),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('exchange_sku', sa.String(length=255), nullable=True),
    sa.Column('received', sa.Integer(), nullable=False),
    sa.Column('sellable', sa.Integer(), nullable=False),
    sa.Column('written_off', sa.Integer(), nullable=False),
    sa.Column('grade', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['order_line_id'], ['order_lines.id'], name=op.f('fk_return_lines_order_line_id_order_lines'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['return_id'], ['returns.id'], name=op.f('fk_return_lines_return_id_returns'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_return_lines')),
    sa.UniqueConstraint('return_id', 'shopify_line_id', name=op.f('uq_return_lines_return_id_shopify_line_id'))
    )
    with op.batch_alter_table('return_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_return_lines_return_id'), ['return_id'], unique=False)

    op.create_table('claims',
    sa.Column('id', ID, nullable=False),
    sa.Column('shop_id', ID, nullable=False),
    sa.Column('order_id', ID, nullable=False),
    sa.Column('shipment_id', ID, nullable=False),
    sa.Column('reship_id', ID, nullable=True),
    sa.Column('against', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('photo_urls', sa.JSON(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('amount_claimed', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('amount_settled', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('settled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_claims_order_id_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reship_id'], ['reships.id'], name=op.f('fk_claims_reship_id_reships'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipments.id'], name=op.f('fk_claims_shipment_id_shipments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_claims_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_claims')),
    sa.UniqueConstraint('shipment_id', 'kind', 'against', name=op.f('uq_claims_shipment_id_kind_against'))
    )
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_claims_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_claims_shop_id'), ['shop_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_claims_status'), ['status'], unique=False)

    with op.batch_alter_table('outbound_orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purpose', sa.String(length=32), server_default='', nullable=False))
        batch_op.drop_constraint(batch_op.f('uq_outbound_orders_order_id_warehouse_id'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_outbound_orders_order_id_warehouse_id_purpose'), ['order_id', 'warehouse_id', 'purpose'])



def downgrade() -> None:
    with op.batch_alter_table('outbound_orders', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_outbound_orders_order_id_warehouse_id_purpose'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_outbound_orders_order_id_warehouse_id'), ['order_id', 'warehouse_id'])
        batch_op.drop_column('purpose')

    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_claims_status'))
        batch_op.drop_index(batch_op.f('ix_claims_shop_id'))
        batch_op.drop_index(batch_op.f('ix_claims_order_id'))

    op.drop_table('claims')
    with op.batch_alter_table('return_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_return_lines_return_id'))

    op.drop_table('return_lines')
    with op.batch_alter_table('return_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_return_events_return_id'))

    op.drop_table('return_events')
    with op.batch_alter_table('reships', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reships_shop_id'))
        batch_op.drop_index(batch_op.f('ix_reships_shipment_id'))
        batch_op.drop_index(batch_op.f('ix_reships_order_id'))

    op.drop_table('reships')
    with op.batch_alter_table('returns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_returns_warehouse_id'))
        batch_op.drop_index(batch_op.f('ix_returns_status'))
        batch_op.drop_index(batch_op.f('ix_returns_shop_id'))
        batch_op.drop_index(batch_op.f('ix_returns_order_id'))

    op.drop_table('returns')
    op.drop_table('return_rules')
