"""SQLAlchemy models, one module per business object. Importing this registers them all."""

from integration.models import loyalty as loyalty
from integration.models.alert import Alert
from integration.models.allocation import Allocation, AllocationStatus, OutboundOrder, OutboundState
from integration.models.amazon import AmazonAccount, AmazonOrder, AmazonShipmentConfirmation
from integration.models.base import Base
from integration.models.channel_stock import ChannelStock
from integration.models.compliance_request import ComplianceRequest
from integration.models.delivery_promise import DeliveryPromise
from integration.models.fulfillment import Fulfillment
from integration.models.import_run import ImportRun, ImportStatus
from integration.models.insights import (
    DemandDay,
    DemandShift,
    InboundShipmentRow,
    InsightSeries,
    LeadTime,
    Promotion,
    RestockSuggestion,
    TestSaleGate,
    TransferSuggestion,
)
from integration.models.integration_log import IntegrationLog
from integration.models.inventory_level import InventoryLevel
from integration.models.location import Location
from integration.models.notification import (
    Notification,
    NotificationPreference,
    NotificationSettings,
    NotificationStatus,
    OrderFeedback,
)
from integration.models.order import Order, OrderLine
from integration.models.returns import Claim, Reship, Return, ReturnEvent, ReturnLine, ReturnRulesRow, ReturnState
from integration.models.shipment import Shipment, TrackingEventRow
from integration.models.shop import Shop, ShopStatus
from integration.models.shop_settings import ShopSettings
from integration.models.stock_daily import StockDaily
from integration.models.stock_level import StockLevel
from integration.models.storefront import (
    BackInStockSubscription,
    StockStatusText,
    StorefrontSettings,
    SubscriptionStatus,
    VariantStockState,
)
from integration.models.sync_cursor import SyncCursor
from integration.models.variant import Variant
from integration.models.warehouse import RoutingRule, Warehouse, WarehouseAccount
from integration.models.webhook_event import EventStatus, WebhookEvent

__all__ = [
    "Alert",
    "Allocation",
    "AllocationStatus",
    "AmazonAccount",
    "AmazonOrder",
    "AmazonShipmentConfirmation",
    "BackInStockSubscription",
    "Base",
    "ChannelStock",
    "Claim",
    "ComplianceRequest",
    "DeliveryPromise",
    "DemandDay",
    "DemandShift",
    "EventStatus",
    "Fulfillment",
    "ImportRun",
    "ImportStatus",
    "InboundShipmentRow",
    "InsightSeries",
    "IntegrationLog",
    "InventoryLevel",
    "LeadTime",
    "Location",
    "Notification",
    "NotificationPreference",
    "NotificationSettings",
    "NotificationStatus",
    "Order",
    "OrderFeedback",
    "OrderLine",
    "OutboundOrder",
    "OutboundState",
    "Promotion",
    "Reship",
    "RestockSuggestion",
    "Return",
    "ReturnEvent",
    "ReturnLine",
    "ReturnRulesRow",
    "ReturnState",
    "RoutingRule",
    "Shipment",
    "Shop",
    "ShopSettings",
    "ShopStatus",
    "StockDaily",
    "StockLevel",
    "StockStatusText",
    "StorefrontSettings",
    "SubscriptionStatus",
    "SyncCursor",
    "TestSaleGate",
    "TrackingEventRow",
    "TransferSuggestion",
    "Variant",
    "VariantStockState",
    "Warehouse",
    "WarehouseAccount",
    "WebhookEvent",
]
