"""Storefront stock status: settings, text overrides, per-variant status state, back-in-stock
subscriptions.

Revision ID: 0004s
Revises: 0003
Create Date: 2026-11-22 04:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0004s'
down_revision = '0003'
branch_labels = None
depends_on = None


def _id():
    return sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('storefront_settings',
    sa.Column('id', _id(), nullable=False),
    sa.Column('shop_id', _id(), nullable=False),
    sa.Column('allow_preorder', sa.Boolean(), nullable=False),
    sa.Column('back_in_stock', sa.Boolean(), nullable=False),
    sa.Column('notify_per_unit', sa.Float(), nullable=False),
    sa.Column('locales', sa.JSON(), nullable=False),
    sa.Column('default_locale', sa.String(length=16), nullable=True),
    sa.Column('markets', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_storefront_settings_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_storefront_settings')),
    sa.UniqueConstraint('shop_id', name=op.f('uq_storefront_settings_shop_id'))
    )
    op.create_table('stock_status_texts',
    sa.Column('id', _id(), nullable=False),
    sa.Column('shop_id', _id(), nullable=False),
    sa.Column('locale', sa.String(length=16), nullable=False),
    sa.Column('key', sa.String(length=32), nullable=False),
    sa.Column('template', sa.String(length=200), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_stock_status_texts_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_status_texts')),
    sa.UniqueConstraint('shop_id', 'locale', 'key', name=op.f('uq_stock_status_texts_shop_id_locale_key'))
    )
    with op.batch_alter_table('stock_status_texts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stock_status_texts_shop_id'), ['shop_id'], unique=False)

    op.create_table('variant_stock_states',
    sa.Column('id', _id(), nullable=False),
    sa.Column('shop_id', _id(), nullable=False),
    sa.Column('variant_shopify_id', sa.String(length=64), nullable=False),
    sa.Column('sku', sa.String(length=255), nullable=True),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('synced_digest', sa.String(length=64), nullable=True),
    sa.Column('available', sa.Integer(), nullable=False),
    sa.Column('restock_seq', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('synced_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_variant_stock_states_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_variant_stock_states')),
    sa.UniqueConstraint('shop_id', 'variant_shopify_id', name=op.f('uq_variant_stock_states_shop_id_variant_shopify_id'))
    )
    with op.batch_alter_table('variant_stock_states', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_variant_stock_states_shop_id'), ['shop_id'], unique=False)

    op.create_table('back_in_stock_subscriptions',
    sa.Column('id', _id(), nullable=False),
    sa.Column('shop_id', _id(), nullable=False),
    sa.Column('variant_shopify_id', sa.String(length=64), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('customer_external_id', sa.String(length=64), nullable=True),
    sa.Column('locale', sa.String(length=16), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('product_path', sa.String(length=255), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('confirm_round', sa.Integer(), nullable=False),
    sa.Column('notified_restock', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('notified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('unsubscribed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('redacted_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_back_in_stock_subscriptions_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_back_in_stock_subscriptions')),
    sa.UniqueConstraint('shop_id', 'variant_shopify_id', 'email', name=op.f('uq_back_in_stock_subscriptions_shop_id_variant_shopify_id_email'))
    )
    with op.batch_alter_table('back_in_stock_subscriptions', schema=None) as batch_op:
        batch_op.create_index('ix_back_in_stock_waiting', ['shop_id', 'variant_shopify_id', 'status', 'confirmed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_back_in_stock_subscriptions_shop_id'), ['shop_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('back_in_stock_subscriptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_back_in_stock_subscriptions_shop_id'))
        batch_op.drop_index('ix_back_in_stock_waiting')
    op.drop_table('back_in_stock_subscriptions')
    with op.batch_alter_table('variant_stock_states', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_variant_stock_states_shop_id'))
    op.drop_table('variant_stock_states')
    with op.batch_alter_table('stock_status_texts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stock_status_texts_shop_id'))
    op.drop_table('stock_status_texts')
    op.drop_table('storefront_settings')
