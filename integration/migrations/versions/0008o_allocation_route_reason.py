"""Each allocation records why its units went where they went, as a code the admin filters on
(local, only_stock, abroad, split, backordered; see ``integration.domain.routing.RouteReason``).

Rows allocated before this revision get the code derived from what they recorded: no warehouse
is backordered; several warehouses for the order is split; the router's own sentence said "local
warehouse" (or the warehouse is in the order's country) is local; anything else is abroad. Whether
an old row's warehouse was the only one with stock cannot be known afterwards (the stock of that
moment is gone), so old rows never claim only_stock.

Revision ID: 0008o
Revises: 0007st
Create Date: 2026-12-14 10:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0008o'
down_revision = '0007st'
branch_labels = None
depends_on = None

DERIVE = """
UPDATE allocations SET route_reason = CASE
    WHEN warehouse_id IS NULL THEN 'backordered'
    WHEN (SELECT COUNT(DISTINCT a2.warehouse_id) FROM allocations a2
          WHERE a2.order_id = allocations.order_id) > 1 THEN 'split'
    WHEN reason LIKE '%(local warehouse%' THEN 'local'
    WHEN (SELECT w.country_code FROM warehouses w WHERE w.id = allocations.warehouse_id)
         = (SELECT UPPER(o.shipping_country) FROM orders o WHERE o.id = allocations.order_id) THEN 'local'
    ELSE 'abroad'
END
"""


def upgrade() -> None:
    op.add_column('allocations', sa.Column('route_reason', sa.String(length=16), nullable=True))
    op.execute(DERIVE)
    with op.batch_alter_table('allocations') as batch:
        batch.alter_column('route_reason', existing_type=sa.String(length=16), nullable=False)
    # The admin's order list filters on "has an allocation with this reason" per order.
    op.create_index('ix_allocations_order_id_route_reason', 'allocations', ['order_id', 'route_reason'])


def downgrade() -> None:
    op.drop_index('ix_allocations_order_id_route_reason', table_name='allocations')
    with op.batch_alter_table('allocations') as batch:
        batch.drop_column('route_reason')
