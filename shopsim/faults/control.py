"""Driving faults on a running store: the client behind `shopsim fault` and the timeline.

A spec is validated before any service is asked (a `FaultSpec` already is; a raw spec is built
here), then installed on every service (each keeps it if it applies there). If any service
refuses it, the ones that took it are rolled back, so a spec is either in force everywhere it
applies or nowhere. Only loopback stores are ever contacted.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from shopsim.faults.api import PREFIX
from shopsim.faults.guard import TOKEN_HEADER, is_loopback_name
from shopsim.faults.spec import FaultSpec, build_spec
from shopsim.settings import CHAOS_TOKEN_ENV, SERVICE_NAMES, Settings


class ChaosError(RuntimeError):
    """A fault could not be applied, removed or listed; the message says why."""


@dataclass(frozen=True)
class Listed:
    service: str
    fault: dict[str, Any]


class ChaosClient:
    """Talks to the chaos API of every service of one store."""

    def __init__(self, settings: Settings, *, token: str | None = None, timeout_s: float = 5.0):
        if not is_loopback_name(settings.host):
            raise ChaosError(f"refusing to send faults to {settings.host}: loopback only")
        self.settings = settings
        token = token if token is not None else os.environ.get(CHAOS_TOKEN_ENV)
        headers = {TOKEN_HEADER: token} if token else {}
        self._http = httpx.Client(timeout=timeout_s, headers=headers)

    def close(self) -> None:
        """Close connections."""
        self._http.close()

    def __enter__(self) -> ChaosClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _url(self, service: str, path: str) -> str:
        # The operator side port: fault control must answer when the service is saturated.
        return f"{self.settings.operator_url(service)}{PREFIX}{path}"

    def _send(self, method: str, service: str, path: str, **kw: Any) -> httpx.Response:
        try:
            return self._http.request(method, self._url(service, path), **kw)
        except httpx.HTTPError as exc:
            raise ChaosError(
                f"{service} at {self.settings.operator_url(service)} did not answer "
                f"({type(exc).__name__})"
            ) from exc

    def add(self, spec: FaultSpec | Mapping[str, Any]) -> tuple[str, list[str]]:
        """Install a spec everywhere it applies; returns (name, services that applied it)."""
        if not isinstance(spec, FaultSpec):
            spec = build_spec(spec)  # refuse bad specs before touching any service
        body = spec.model_dump()
        applied: list[str] = []
        try:
            # Only where it applies: a service that is down (crashed) elsewhere is no obstacle.
            for service in (s for s in SERVICE_NAMES if s in spec.services()):
                response = self._send("POST", service, "/faults", json=body)
                if response.status_code == 201:
                    applied.append(service)
                elif response.status_code != 200:
                    raise ChaosError(f"{service} refused the fault: {_message(response)}")
        except BaseException:
            for service in applied:  # all or nothing; one we cannot reach expires by itself
                with contextlib.suppress(ChaosError):
                    self._send("DELETE", service, f"/faults/{spec.name}")
            raise
        if not applied:
            raise ChaosError(f"no service applied {spec.name}")
        return spec.name, applied

    def remove(self, name: str) -> list[str]:
        """Remove a fault by name everywhere; returns the services it was removed from."""
        removed: list[str] = []
        for service in SERVICE_NAMES:
            response = self._send("DELETE", service, f"/faults/{name}")
            if response.status_code == 200:
                removed.append(service)
            elif response.status_code != 404:
                raise ChaosError(f"{service}: {_message(response)}")
        if not removed:
            raise ChaosError(f"no active fault named {name!r}")
        return removed

    def reset(self) -> dict[str, int | str]:
        """Remove every fault and undo every resilience change on every service that answers.

        Returns, per service, how many faults it removed, or why it did not answer."""
        out: dict[str, int | str] = {}
        for service in SERVICE_NAMES:
            try:
                response = self._send("POST", service, "/reset", json={})
                ok = response.status_code == 200
                out[service] = response.json()["removed"] if ok else _message(response)
            except ChaosError as exc:
                out[service] = str(exc)
        return out

    def list(self) -> list[Listed]:
        """Every active fault, per service that carries it out."""
        found: list[Listed] = []
        for service in SERVICE_NAMES:
            response = self._send("GET", service, "/faults")
            if response.status_code != 200:
                raise ChaosError(f"{service}: {_message(response)}")
            found.extend(Listed(service, f) for f in response.json()["faults"])
        return found

    def get_resilience(self, service: str) -> dict[str, Any]:
        """One service's live resilience settings."""
        response = self._send("GET", service, "/resilience")
        if response.status_code != 200:
            raise ChaosError(f"{service}: {_message(response)}")
        body: dict[str, Any] = response.json()
        return body

    def set_resilience(
        self, service: str, patch: dict[str, Any], duration_s: float | None = None
    ) -> dict[str, Any]:
        """Change one service's live resilience settings, for `duration_s` or until reset."""
        body = patch if duration_s is None else patch | {"duration_s": duration_s}
        response = self._send("PUT", service, "/resilience", json=body)
        if response.status_code != 200:
            raise ChaosError(f"{service} refused the change: {_message(response)}")
        answer: dict[str, Any] = response.json()
        return answer


def _message(response: httpx.Response) -> str:
    try:
        err = response.json()["error"]
        field = f" ({err['field']})" if err.get("field") else ""
        return f"{err['message']}{field}"
    except (ValueError, KeyError, TypeError):
        return f"HTTP {response.status_code}"
