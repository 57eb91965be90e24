"""Where a store keeps its data, per service: the SQLAlchemy URL each one uses, for the manifest.

For a store the game day starts, the URLs follow from its settings. A store given by --target
is asked: each service tells operators on its side port (`/healthz`, from loopback or with the
chaos token) the URL it uses. Passwords never appear; SQLite paths are absolute. Whatever
reads a run directory later (the integrity audit) opens exactly these databases.
"""

from __future__ import annotations

import os

import httpx

from shopsim.db import public_url
from shopsim.faults.api import TOKEN_HEADER
from shopsim.settings import CHAOS_TOKEN_ENV, SERVICE_NAMES, Settings


def configured(settings: Settings) -> dict[str, str]:
    """Service -> the URL its database has under `settings` (no password)."""
    return {name: public_url(settings.database_url(name)) for name in SERVICE_NAMES}


def reported(settings: Settings, timeout_s: float = 5.0) -> dict[str, str | None]:
    """Service -> the URL a running service reports (None when it does not say)."""
    token = settings.chaos_token or os.environ.get(CHAOS_TOKEN_ENV)
    headers = {TOKEN_HEADER: token} if token else {}
    out: dict[str, str | None] = {}
    with httpx.Client(timeout=timeout_s, headers=headers) as client:
        for name in SERVICE_NAMES:
            try:
                body = client.get(f"{settings.operator_url(name)}/healthz").json()
                url = body.get("database_url") if isinstance(body, dict) else None
            except (httpx.HTTPError, ValueError):
                url = None
            out[name] = url if isinstance(url, str) else None
    return out
