"""Is this request from a browser on this machine? The development tools (the start page, the
outbox, notice previews, the warehouse emulators' control page) answer no one else.

:func:`development_only` marks such a view: 404 in production, and 404 to any other client, so
neither the machine's address on a shared network, a tunnel to it, nor a page on another site
that resolves its own name to 127.0.0.1 (DNS rebinding) reaches it. The marked views are listed
in :data:`DEVELOPMENT_ONLY` (by function), which the production test walks route by route.
"""

from __future__ import annotations

import functools
import ipaddress
from urllib.parse import urlsplit

from flask import abort, current_app, request

# What a relay adds: a tunnel (ngrok, cloudflared) or a local proxy connects from loopback too.
RELAY_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-IP")
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")

DEVELOPMENT_ONLY: set = set()


def from_this_machine() -> bool:
    """The client is on loopback, nothing relayed the request, and the browser addressed this
    machine by a loopback name (another Host is a rebinding page, whatever address it connects from)."""
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:  # a unix socket: no address to trust
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    try:
        host = urlsplit("//" + request.host).hostname or ""
    except ValueError:  # a malformed Host header
        host = ""
    return address.is_loopback and host in LOOPBACK_HOSTS \
        and not any(name in request.headers for name in RELAY_HEADERS)


def development_only(view):
    """The view answers 404 in production and to any client but a browser on this machine."""

    @functools.wraps(view)
    def guarded(*args, **kwargs):
        if current_app.config["NEARSTOCK"].is_production or not from_this_machine():
            abort(404)
        return view(*args, **kwargs)

    DEVELOPMENT_ONLY.add(guarded)
    return guarded
