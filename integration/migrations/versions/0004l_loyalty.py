"""Loyalty: programs, tiers, accounts (balance rows), the points ledger, lots and their uses, monthly
tier totals, reward and perk codes, refunds seen, manual adjustments.

Revision ID: 0004l
Revises: 0003
Create Date: 2026-11-22 03:53:09.259254
"""

from alembic import op
import sqlalchemy as sa


revision = '0004l'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('loyalty_programs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('points_per_currency', sa.Numeric(precision=10, scale=4), nullable=False),
    sa.Column('local_multiplier', sa.Numeric(precision=6, scale=2), nullable=False),
    sa.Column('earn_on', sa.String(length=16), nullable=False),
    sa.Column('points_expiry_days', sa.Integer(), nullable=False),
    sa.Column('signup_bonus', sa.Integer(), nullable=False),
    sa.Column('birthday_bonus', sa.Integer(), nullable=False),
    sa.Column('feedback_bonus', sa.Integer(), nullable=False),
    sa.Column('tier_basis', sa.String(length=8), nullable=False),
    sa.Column('member_days', sa.JSON(), nullable=False),
    sa.Column('reward_options', sa.JSON(), nullable=False),
    sa.Column('reward_expiry_days', sa.Integer(), nullable=False),
    sa.Column('birthday_gift', sa.JSON(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_loyalty_programs_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loyalty_programs')),
    sa.UniqueConstraint('shop_id', name=op.f('uq_loyalty_programs_shop_id'))
    )
    op.create_table('loyalty_refunds',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('external_id', sa.String(length=64), nullable=False),
    sa.Column('order_external_id', sa.String(length=64), nullable=False),
    sa.Column('lines', sa.JSON(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('refunded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_loyalty_refunds_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loyalty_refunds')),
    sa.UniqueConstraint('shop_id', 'external_id', name=op.f('uq_loyalty_refunds_shop_id_external_id'))
    )
    with op.batch_alter_table('loyalty_refunds', schema=None) as batch_op:
        batch_op.create_index('ix_loyalty_refunds_order', ['shop_id', 'order_external_id'], unique=False)

    op.create_table('loyalty_tiers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('threshold', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('multiplier', sa.Numeric(precision=6, scale=2), nullable=False),
    sa.Column('free_shipping_days', sa.Boolean(), nullable=False),
    sa.Column('birthday_gift', sa.Boolean(), nullable=False),
    sa.Column('priority_support', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_loyalty_tiers_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loyalty_tiers')),
    sa.UniqueConstraint('shop_id', 'name', name=op.f('uq_loyalty_tiers_shop_id_name'))
    )
    with op.batch_alter_table('loyalty_tiers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_loyalty_tiers_shop_id'), ['shop_id'], unique=False)

    op.create_table('loyalty_accounts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_external_id', sa.String(length=64), nullable=True),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('locale', sa.String(length=16), nullable=True),
    sa.Column('birthday', sa.String(length=5), nullable=True),
    sa.Column('balance', sa.BigInteger(), nullable=False),
    sa.Column('lifetime_earned', sa.BigInteger(), nullable=False),
    sa.Column('tier_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('tier_changed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.Column('redacted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('balance >= 0', name=op.f('ck_loyalty_accounts_balance_not_negative')),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_loyalty_accounts_shop_id_shops'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tier_id'], ['loyalty_tiers.id'], name=op.f('fk_loyalty_accounts_tier_id_loyalty_tiers'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loyalty_accounts')),
    sa.UniqueConstraint('shop_id', 'customer_external_id', name=op.f('uq_loyalty_accounts_shop_id_customer_external_id'))
    )
    with op.batch_alter_table('loyalty_accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_loyalty_accounts_birthday'), ['birthday'], unique=False)
        batch_op.create_index(batch_op.f('ix_loyalty_accounts_tier_id'), ['tier_id'], unique=False)

    op.create_table('loyalty_entries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('source_id', sa.String(length=64), nullable=False),
    sa.Column('rule', sa.String(length=48), nullable=False),
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('reverses_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['loyalty_accounts.id'], name=op.f('fk_loyalty_entries_account_id_loyalty_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_loyalty_entries_order_id_orders'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['reverses_id'], ['loyalty_entries.id'], name=op.f('fk_loyalty_entries_reverses_id_loyalty_entries'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_loyalty_entries_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loyalty_entries')),
    sa.UniqueConstraint('shop_id', 'source', 'source_id', 'rule', name=op.f('uq_loyalty_entries_shop_id_source_source_id_rule'))
    )
    with op.batch_alter_table('loyalty_entries', schema=None) as batch_op:
        batch_op.create_index('ix_loyalty_entries_account_id_id', ['account_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_loyalty_entries_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_loyalty_entries_reverses_id'), ['reverses_id'], unique=False)

    op.create_table('loyalty_months',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('month', sa.Integer(), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('spend', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['loyalty_accounts.id'], name=op.f('fk_loyalty_months_account_id_loyalty_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loyalty_months')),
    sa.UniqueConstraint('account_id', 'month', name=op.f('uq_loyalty_months_account_id_month'))
    )
    op.create_table('loyalty_rewards',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=True),
    sa.Column('request_key', sa.String(length=64), nullable=True),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('percentage', sa.Numeric(precision=5, scale=4), nullable=True),
    sa.Column('code', sa.String(length=64), nullable=True),
    sa.Column('shopify_id', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['loyalty_accounts.id'], name=op.f('fk_loyalty_rewards_account_id_loyalty_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_loyalty_rewards_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loyalty_rewards')),
    sa.UniqueConstraint('account_id', 'kind', 'period', name=op.f('uq_loyalty_rewards_account_id_kind_period')),
    sa.UniqueConstraint('account_id', 'request_key', name=op.f('uq_loyalty_rewards_account_id_request_key')),
    sa.UniqueConstraint('shop_id', 'code', name=op.f('uq_loyalty_rewards_shop_id_code'))
    )
    with op.batch_alter_table('loyalty_rewards', schema=None) as batch_op:
        batch_op.create_index('ix_loyalty_rewards_status_ends_at', ['status', 'ends_at'], unique=False)

    op.create_table('loyalty_adjustments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_external_id', sa.String(length=64), nullable=True),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('actor', sa.String(length=64), nullable=True),
    sa.Column('redacted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['loyalty_accounts.id'], name=op.f('fk_loyalty_adjustments_account_id_loyalty_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['entry_id'], ['loyalty_entries.id'], name=op.f('fk_loyalty_adjustments_entry_id_loyalty_entries'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_loyalty_adjustments_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loyalty_adjustments')),
    sa.UniqueConstraint('entry_id', name=op.f('uq_loyalty_adjustments_entry_id'))
    )
    with op.batch_alter_table('loyalty_adjustments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_loyalty_adjustments_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_loyalty_adjustments_customer_external_id'), ['customer_external_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_loyalty_adjustments_shop_id'), ['shop_id'], unique=False)

    op.create_table('loyalty_lots',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('remaining', sa.BigInteger(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('remaining >= 0 AND remaining <= points', name=op.f('ck_loyalty_lots_remaining_in_range')),
    sa.ForeignKeyConstraint(['account_id'], ['loyalty_accounts.id'], name=op.f('fk_loyalty_lots_account_id_loyalty_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['entry_id'], ['loyalty_entries.id'], name=op.f('fk_loyalty_lots_entry_id_loyalty_entries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loyalty_lots')),
    sa.UniqueConstraint('entry_id', name=op.f('uq_loyalty_lots_entry_id'))
    )
    with op.batch_alter_table('loyalty_lots', schema=None) as batch_op:
        batch_op.create_index('ix_loyalty_lots_expiring', ['expires_at'], unique=False, postgresql_where=sa.text('remaining > 0'), sqlite_where=sa.text('remaining > 0'))
        batch_op.create_index('ix_loyalty_lots_open', ['account_id', 'id'], unique=False, postgresql_where=sa.text('remaining > 0'), sqlite_where=sa.text('remaining > 0'))

    op.create_table('loyalty_lot_uses',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('lot_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['loyalty_entries.id'], name=op.f('fk_loyalty_lot_uses_entry_id_loyalty_entries'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['lot_id'], ['loyalty_lots.id'], name=op.f('fk_loyalty_lot_uses_lot_id_loyalty_lots'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loyalty_lot_uses'))
    )
    with op.batch_alter_table('loyalty_lot_uses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_loyalty_lot_uses_entry_id'), ['entry_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_loyalty_lot_uses_lot_id'), ['lot_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('loyalty_lot_uses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_loyalty_lot_uses_lot_id'))
        batch_op.drop_index(batch_op.f('ix_loyalty_lot_uses_entry_id'))

    op.drop_table('loyalty_lot_uses')
    with op.batch_alter_table('loyalty_lots', schema=None) as batch_op:
        batch_op.drop_index('ix_loyalty_lots_open', postgresql_where=sa.text('remaining > 0'), sqlite_where=sa.text('remaining > 0'))
        batch_op.drop_index('ix_loyalty_lots_expiring', postgresql_where=sa.text('remaining > 0'), sqlite_where=sa.text('remaining > 0'))

    op.drop_table('loyalty_lots')
    with op.batch_alter_table('loyalty_adjustments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_loyalty_adjustments_shop_id'))
        batch_op.drop_index(batch_op.f('ix_loyalty_adjustments_customer_external_id'))
        batch_op.drop_index(batch_op.f('ix_loyalty_adjustments_account_id'))

    op.drop_table('loyalty_adjustments')
    with op.batch_alter_table('loyalty_rewards', schema=None) as batch_op:
        batch_op.drop_index('ix_loyalty_rewards_status_ends_at')

    op.drop_table('loyalty_rewards')
    op.drop_table('loyalty_months')
    with op.batch_alter_table('loyalty_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_loyalty_entries_reverses_id'))
        batch_op.drop_index(batch_op.f('ix_loyalty_entries_order_id'))
        batch_op.drop_index('ix_loyalty_entries_account_id_id')

    op.drop_table('loyalty_entries')
    with op.batch_alter_table('loyalty_accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_loyalty_accounts_tier_id'))
        batch_op.drop_index(batch_op.f('ix_loyalty_accounts_birthday'))

    op.drop_table('loyalty_accounts')
    with op.batch_alter_table('loyalty_tiers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_loyalty_tiers_shop_id'))

    op.drop_table('loyalty_tiers')
    with op.batch_alter_table('loyalty_refunds', schema=None) as batch_op:
        batch_op.drop_index('ix_loyalty_refunds_order')

    op.drop_table('loyalty_refunds')
    op.drop_table('loyalty_programs')
