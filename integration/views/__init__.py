"""Blueprints: health, metrics, webhooks (Shopify's as WSGI middleware), auth (install/OAuth), admin pages, APIs."""

from flask import Flask


def register(app: Flask) -> None:
    from integration.views import (
        admin_pages,
        aftersales_api,
        amazon_connect,
        amazon_orders,
        api,
        auth,
        customer_account,
        feedback_api,
        feedback_page,
        gates_api,
        health,
        home_api,
        inbound_api,
        insights_api,
        insights_read_api,
        loyalty_api,
        metrics,
        notices_api,
        notifications,
        orders_api,
        proxy_loyalty,
        proxy_returns,
        proxy_stock,
        proxy_track,
        returns_api,
        start_page,
        stock_api,
        storefront_api,
        warehouse_webhooks,
        warehouses_api,
        webhooks,
    )

    app.register_blueprint(health.bp)
    app.register_blueprint(metrics.bp)
    webhooks.install(app)  # POST /webhooks/shopify, in front of Flask (see the module)
    app.register_blueprint(warehouse_webhooks.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(admin_pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(warehouses_api.bp)
    app.register_blueprint(amazon_connect.bp)
    app.register_blueprint(amazon_orders.bp)
    app.register_blueprint(home_api.bp)
    app.register_blueprint(insights_api.bp)
    app.register_blueprint(customer_account.bp)
    app.register_blueprint(notifications.bp)
    app.register_blueprint(notices_api.bp)
    app.register_blueprint(proxy_track.bp)
    app.register_blueprint(proxy_returns.bp)
    app.register_blueprint(proxy_stock.bp)
    app.register_blueprint(loyalty_api.bp)
    app.register_blueprint(orders_api.bp)
    app.register_blueprint(stock_api.bp)
    app.register_blueprint(storefront_api.bp)
    app.register_blueprint(feedback_api.bp)
    app.register_blueprint(feedback_page.bp)  # the customer's page from the "delivered" e-mail
    app.register_blueprint(insights_read_api.bp)
    app.register_blueprint(inbound_api.bp)
    app.register_blueprint(gates_api.bp)
    app.register_blueprint(proxy_loyalty.bp)
    app.register_blueprint(returns_api.bp)
    app.register_blueprint(aftersales_api.bp)
    app.register_blueprint(start_page.bp)  # development only (404 in production)
