"""Is this request from a browser on this machine? The development tools (the outbox, notice
previews, the warehouse emulators' control page) answer no one else."""

from __future__ import annotations

import ipaddress

from flask import request

# What a relay adds: a tunnel (ngrok, cloudflared) or a local proxy connects from loopback too.
RELAY_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-IP")


def from_this_machine() -> bool:
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:  # a unix socket: no address to trust
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_loopback and not any(name in request.headers for name in RELAY_HEADERS)
