"""The one answer to "which IP is the client?", for rate limits, login lockouts and the audit log.

`NUM_PROXIES` says how many reverse proxies in front of the app append to `X-Forwarded-For`.
With 0 (the default) the header is whatever the client wrote, so it is ignored and the client is
`REMOTE_ADDR`. With N, the client is the N-th address from the right of the header: the one the
outermost trusted proxy saw (anything further left was written by the client and may be forged).
"""

import ipaddress

from django.conf import settings


def _valid_ip(value: str | None) -> str | None:
    if not value:
        return None
    value = value.strip()
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def client_ip(request) -> str | None:
    """The trusted client IP of a Django or DRF request (None when there is none)."""
    meta = request.META
    remote = _valid_ip(meta.get("REMOTE_ADDR"))
    proxies = settings.NUM_PROXIES
    forwarded = meta.get("HTTP_X_FORWARDED_FOR")
    if not proxies or not forwarded:
        return remote
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    if not hops:
        return remote
    return _valid_ip(hops[-min(proxies, len(hops))]) or remote
