"""The client's address, for everything that records or limits by address (audit entries, lockout, throttles).

``X-Forwarded-For`` is only as trustworthy as the proxies that wrote it: each proxy appends the address it was
connected from, and anything further left came from the client, who can write what it likes. With
``TRUSTED_PROXY_COUNT`` = N proxies in front of Muster, the client is the Nth address from the right (the one
the outermost trusted proxy saw); with 0, the header is ignored and the client is the connection's address.
"""

import ipaddress

from django.conf import settings


def client_address(request) -> str | None:
    if request is None:
        return None
    connection = request.META.get("REMOTE_ADDR") or None
    proxies = settings.TRUSTED_PROXY_COUNT
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    if proxies <= 0 or not hops:
        return connection
    # Fewer hops than proxies: the request came in through an inner proxy, and the leftmost is what it saw.
    return plain_address(hops[-min(proxies, len(hops))]) or connection


def plain_address(value: str) -> str | None:
    """``value`` as an IP address without a port (``192.0.2.1:443``, ``[2001:db8::1]:443``), or None."""
    if value.startswith("["):
        value = value[1:].partition("]")[0]
    elif value.count(":") == 1:
        value = value.partition(":")[0]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None
