"""Who may call the chaos API: checks made before any chaos call is carried out.

A service bound off loopback without a token refuses every call. Otherwise:

- token configured: every call carries it in ``X-Shopsim-Chaos-Token`` (constant-time compare);
- no token: the caller is on loopback, and the ``Host`` it asked for is a loopback name or
  address, so a page whose own name was rebound to 127.0.0.1 (DNS rebinding) is refused;
- a browser's ``Origin``, when there is one, is the store's own (one of its service or side
  ports on a loopback name or the host it is bound to), so other sites cannot drive it;
- calls that change something with a body (POST, PUT) say ``Content-Type: application/json``,
  which no cross-site "simple request" (form or text/plain) can.

A refusal is a `Forbidden` (403) or `UnsupportedMediaType` (415) naming the header at fault.
"""

from __future__ import annotations

import hmac
import ipaddress
from urllib.parse import urlsplit

from flask import Request

from shopsim.errors import ShopsimError
from shopsim.settings import OPERATOR_PORT_OFFSET, SERVICE_NAMES, Settings

TOKEN_HEADER = "X-Shopsim-Chaos-Token"
LOOPBACK_NAMES = frozenset({"localhost", "localhost."})
JSON_METHODS = frozenset({"POST", "PUT", "PATCH"})


class Forbidden(ShopsimError):
    status = 403
    code = "forbidden"


class UnsupportedMediaType(ShopsimError):
    status = 415
    code = "unsupported_media_type"


def is_loopback(address: str | None) -> bool:
    """True for 127.0.0.0/8 and ::1 (and IPv4-mapped loopback)."""
    try:
        ip = ipaddress.ip_address((address or "").split("%")[0])
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return bool(ip.is_loopback or (mapped is not None and mapped.is_loopback))


def is_loopback_name(host: str | None) -> bool:
    """True for 'localhost' and loopback addresses, bracketed IPv6 included (no port)."""
    name = (host or "").lower()
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    return name in LOOPBACK_NAMES or is_loopback(name)


def chaos_disabled_reason(host: str, token: str | None) -> str | None:
    """Why the chaos API must stay shut for a service bound to `host`, or None."""
    if token or is_loopback_name(host):
        return None
    return f"chaos API disabled: bound to {host} (not loopback) and no chaos token configured"


def check(request: Request, settings: Settings) -> None:
    """Raise Forbidden or UnsupportedMediaType unless `request` may use the chaos API."""
    reason = chaos_disabled_reason(settings.host, settings.chaos_token)
    if reason:
        raise Forbidden(reason)
    token = settings.chaos_token
    if token:
        given = request.headers.get(TOKEN_HEADER, "")
        if not hmac.compare_digest(given.encode(), token.encode()):
            raise Forbidden(f"a valid {TOKEN_HEADER} header is required", field=TOKEN_HEADER)
    else:
        if not is_loopback(request.remote_addr):
            raise Forbidden("the chaos API answers only on loopback unless a token is configured")
        host = _hostname(request.headers.get("Host", ""))
        if not is_loopback_name(host):
            raise Forbidden(
                f"Host {host!r} is not a loopback name or address: the chaos API answers only "
                "requests for localhost or 127.0.0.1 unless a token is configured",
                field="Host",
            )
    origin = request.headers.get("Origin")
    if origin is not None and not own_origin(origin, settings):
        raise Forbidden(
            f"Origin {origin!r} is not this store's: web pages of other sites may not use the "
            "chaos API",
            field="Origin",
        )
    if request.method in JSON_METHODS and request.mimetype != "application/json":
        given = request.mimetype or "none"
        raise UnsupportedMediaType(
            f"the chaos API takes Content-Type: application/json (not {given})",
            field="Content-Type",
        )


def own_origin(origin: str, settings: Settings) -> bool:
    """Whether a browser's Origin is a page of this store (any of its ports, over http)."""
    try:
        parts = urlsplit(origin)
        port = parts.port or 80
    except ValueError:
        return False
    host = parts.hostname or ""
    if parts.scheme != "http" or parts.path or parts.query:
        return False
    if not (is_loopback_name(host) or host == settings.host.strip("[]").lower()):
        return False
    ports = {settings.port(n) + k for n in SERVICE_NAMES for k in (0, OPERATOR_PORT_OFFSET)}
    return port in ports


def _hostname(host: str) -> str:
    """'127.0.0.1:8101' -> '127.0.0.1', '[::1]:8101' -> '[::1]', 'localhost' -> 'localhost'."""
    if host.startswith("["):
        return host[: host.find("]") + 1] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host
