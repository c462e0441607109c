"""Feedback (issue #23, R4): order_feedback gets the four dimensions (delivery speed, packaging,
product quality, after-sales), the NPS answer and the single-use form nonce; delivery_promises
keeps each parcel's promised delivery date, fixed when it shipped, for the promise-kept rate.

Revision ID: 0011f_feedback
Revises: 0010i
Create Date: 2026-12-08 09:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0011f_feedback'
down_revision = '0010i'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
ANSWERS = ('delivery_speed', 'packaging', 'product_quality', 'after_sales', 'nps')


def upgrade() -> None:
    with op.batch_alter_table('order_feedback', schema=None) as batch_op:
        for name in ANSWERS:
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('form_nonce', sa.String(length=32), nullable=True))
    op.create_table('delivery_promises',
    sa.Column('id', ID, nullable=False),
    sa.Column('shop_id', ID, nullable=False),
    sa.Column('shipment_id', ID, nullable=False),
    sa.Column('order_id', ID, nullable=False),
    sa.Column('warehouse_id', ID, nullable=True),
    sa.Column('carrier', sa.String(length=128), nullable=True),
    sa.Column('country_code', sa.String(length=2), nullable=True),
    sa.Column('shipped_on', sa.Date(), nullable=False),
    sa.Column('promised_by', sa.Date(), nullable=False),
    sa.Column('delivered_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_delivery_promises_order_id_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipments.id'], name=op.f('fk_delivery_promises_shipment_id_shipments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_delivery_promises_shop_id_shops'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_delivery_promises_warehouse_id_warehouses'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery_promises')),
    sa.UniqueConstraint('shipment_id', name=op.f('uq_delivery_promises_shipment_id'))
    )
    with op.batch_alter_table('delivery_promises', schema=None) as batch_op:
        batch_op.create_index('ix_delivery_promises_shop_id_promised_by', ['shop_id', 'promised_by'], unique=False)
        batch_op.create_index(batch_op.f('ix_delivery_promises_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_delivery_promises_warehouse_id'), ['warehouse_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('delivery_promises', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delivery_promises_warehouse_id'))
        batch_op.drop_index(batch_op.f('ix_delivery_promises_order_id'))
        batch_op.drop_index('ix_delivery_promises_shop_id_promised_by')
    op.drop_table('delivery_promises')
    with op.batch_alter_table('order_feedback', schema=None) as batch_op:
        batch_op.drop_column('form_nonce')
        for name in reversed(ANSWERS):
            batch_op.drop_column(name)
