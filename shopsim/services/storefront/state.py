"""What one storefront process keeps in memory: the error-page counter and the OpenAPI document.

`init_app` builds one `StorefrontState` per app and sets it on the service context; views get
it back typed with `of(ctx)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from prometheus_client import Counter

from shopsim.context import ServiceContext


@dataclass(frozen=True)
class StorefrontState:
    """One storefront app's own parts, built once by `init_app`."""

    error_pages: Counter  # dog pages shown, by page
    openapi: dict[str, Any]  # the API's OpenAPI document, built once


def of(ctx: ServiceContext) -> StorefrontState:
    """The state of the storefront app whose context this is."""
    found = ctx.service_state
    if not isinstance(found, StorefrontState):
        raise TypeError(f"{ctx.service} has no storefront state (init_app builds it)")
    return found
