"""SQLAlchemy models, one module per business object. Importing this registers them all."""

from integration.models.base import Base
from integration.models.integration_log import IntegrationLog
from integration.models.shop import Shop, ShopStatus
from integration.models.sync_cursor import SyncCursor
from integration.models.webhook_event import EventStatus, WebhookEvent

__all__ = [
    "Base",
    "EventStatus",
    "IntegrationLog",
    "Shop",
    "ShopStatus",
    "SyncCursor",
    "WebhookEvent",
]
