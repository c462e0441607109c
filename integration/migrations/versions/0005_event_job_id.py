"""The inbox row names the RQ job that covers it (its own, or the one job of the webhook batch it
arrived with), so a redelivery and the sweeper can tell whether that job is still alive. Also
joins the four 0004 branches into one head.

Revision ID: 0005
Revises: 0004a, 0004l, 0004n, 0004s
Create Date: 2026-11-22 07:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = ('0004a', '0004l', '0004n', '0004s')
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('webhook_events', sa.Column('job_id', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('webhook_events') as batch:
        batch.drop_column('job_id')
