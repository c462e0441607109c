"""Amazon: seller accounts, order -> account/marketplace links, shipment confirmations.

Revision ID: 0004a
Revises: 0003
Create Date: 2026-11-22 04:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0004a'
down_revision = '0003'
branch_labels = None
depends_on = None

BIGID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('amazon_accounts',
    sa.Column('id', BIGID, nullable=False),
    sa.Column('shop_id', BIGID, nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('seller_id', sa.String(length=64), nullable=False),
    sa.Column('region', sa.String(length=8), nullable=False),
    sa.Column('marketplaces', sa.JSON(), nullable=False),
    sa.Column('lwa_client_id', sa.String(length=255), nullable=False),
    sa.Column('lwa_client_secret', sa.Text(), nullable=False),
    sa.Column('refresh_token', sa.Text(), nullable=False),
    sa.Column('endpoint', sa.String(length=500), nullable=True),
    sa.Column('lwa_token_url', sa.String(length=500), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_amazon_accounts_shop_id_shops'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_amazon_accounts')),
    sa.UniqueConstraint('shop_id', 'seller_id', name=op.f('uq_amazon_accounts_shop_id_seller_id'))
    )
    with op.batch_alter_table('amazon_accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_amazon_accounts_shop_id'), ['shop_id'], unique=False)

    op.create_table('amazon_orders',
    sa.Column('order_id', BIGID, nullable=False),
    sa.Column('account_id', BIGID, nullable=False),
    sa.Column('marketplace_id', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_amazon_orders_order_id_orders'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['account_id'], ['amazon_accounts.id'],
                            name=op.f('fk_amazon_orders_account_id_amazon_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('order_id', name=op.f('pk_amazon_orders'))
    )
    with op.batch_alter_table('amazon_orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_amazon_orders_account_id'), ['account_id'], unique=False)

    op.create_table('amazon_shipment_confirmations',
    sa.Column('shipment_id', BIGID, nullable=False),
    sa.Column('shop_id', BIGID, nullable=False),
    sa.Column('order_id', BIGID, nullable=False),
    sa.Column('package_reference_id', sa.String(length=64), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipments.id'],
                            name=op.f('fk_amazon_shipment_confirmations_shipment_id_shipments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_amazon_shipment_confirmations_shop_id_shops'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'],
                            name=op.f('fk_amazon_shipment_confirmations_order_id_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('shipment_id', name=op.f('pk_amazon_shipment_confirmations'))
    )
    with op.batch_alter_table('amazon_shipment_confirmations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_amazon_shipment_confirmations_shop_id'), ['shop_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_amazon_shipment_confirmations_order_id'), ['order_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('amazon_shipment_confirmations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_amazon_shipment_confirmations_order_id'))
        batch_op.drop_index(batch_op.f('ix_amazon_shipment_confirmations_shop_id'))
    op.drop_table('amazon_shipment_confirmations')
    with op.batch_alter_table('amazon_orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_amazon_orders_account_id'))
    op.drop_table('amazon_orders')
    with op.batch_alter_table('amazon_accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_amazon_accounts_shop_id'))
    op.drop_table('amazon_accounts')
