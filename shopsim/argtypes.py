"""Argument types shared by the subcommands: each turns text into a value or says what is wrong.

An `argparse.ArgumentTypeError` raised here becomes argparse's one-line usage error and exit
status 2, the status every argument mistake gets. Messages name the option.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import make_url
from sqlalchemy.exc import ArgumentError

from shopsim.settings import PORT_SPAN

#: The highest port base: a store uses its base and the PORT_SPAN - 1 ports above it.
TOP_PORT_BASE = 65535 - PORT_SPAN + 1


def whole(name: str, text: str) -> int:
    """`text` as a whole number written in ASCII digits, or an error naming `name`."""
    body = text.strip()
    digits = body[1:] if body[:1] in ("+", "-") else body
    if not (digits.isascii() and digits.isdigit()):
        kind = "a whole number" if _is_number(body) else "a number"
        raise argparse.ArgumentTypeError(f"{name} must be {kind}, not {text!r}")
    return int(body)


def seed(text: str) -> int:
    """A --seed: a whole number from 0 to 2**63-1 (the store and every RNG take it as is)."""
    value = whole("--seed", text)
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError("--seed must be between 0 and 2**63-1")
    return value


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def bounded(name: str, low: float, high: float, kind: type = float) -> Callable[[str], float]:
    """An argument type for a number of `kind` in [low, high] (NaN and infinities refused)."""

    def parse(text: str) -> float:
        if kind is int:
            value: float = whole(name, text)
        else:
            try:
                value = float(text)
            except ValueError:
                raise argparse.ArgumentTypeError(f"{name} must be a number, not {text!r}") from None
        if math.isnan(value) or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{name} must be between {low:g} and {high:g}")
        return value

    return parse


def port_base(text: str, name: str = "--port-base") -> int:
    """A store's port base: its storefront's port, with room above it for every other port."""
    value = whole(name, text)
    if not 1024 <= value <= TOP_PORT_BASE:
        raise argparse.ArgumentTypeError(
            f"{name} must be between 1024 and {TOP_PORT_BASE} (the store uses the "
            f"{PORT_SPAN - 1} ports above it too), not {value}"
        )
    return value


def storefront_url(text: str) -> tuple[str, int]:
    """`--target http://127.0.0.1:8100` -> (host, port); says exactly what is wrong otherwise."""
    example = "like http://127.0.0.1:8100"
    parts = urlsplit(text.strip())
    if parts.scheme != "http" or not parts.hostname:
        raise argparse.ArgumentTypeError(f"--target must be a storefront URL {example}")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise argparse.ArgumentTypeError(
            f"--target is the storefront's base URL ({example}), without a path"
        )
    host_port = parts.netloc.rpartition("@")[2].rpartition("]")[2]  # past an IPv6 [address]
    _, colon, port_text = host_port.rpartition(":")
    if not colon or not port_text:
        raise argparse.ArgumentTypeError(f"--target must give the storefront's port, {example}")
    return parts.hostname, port_base(port_text, "the --target port")


def db_url(text: str) -> str:
    """A --db URL: SQLite (a file, made absolute) or PostgreSQL (psycopg as the driver)."""
    try:
        url = make_url(text)
    except (ArgumentError, ValueError):
        raise argparse.ArgumentTypeError(f"--db is not a database URL: {text!r}") from None
    backend = url.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise argparse.ArgumentTypeError("--db must be a sqlite:// or postgresql:// URL")
    if backend == "sqlite":
        if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
            raise argparse.ArgumentTypeError(
                "--db sqlite:// needs a file (sqlite:///path/to/shop.db): every service is its "
                "own process, so an in-memory database would be a different one in each"
            )
        url = url.set(database=str(Path(url.database).expanduser().resolve()))
    elif not url.database:
        raise argparse.ArgumentTypeError(f"--db names no database: {text!r}")
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


def directory(name: str) -> Callable[[str], Path]:
    """An argument type for a directory that may not exist yet, but is not a file."""

    def parse(text: str) -> Path:
        path = Path(text)
        if not text.strip():
            raise argparse.ArgumentTypeError(f"{name} must name a directory")
        for part in (path, *path.parents):
            if part.exists() and not part.is_dir():
                raise argparse.ArgumentTypeError(
                    f"{name} {text}: {part} is a file, not a directory"
                )
        return path

    return parse
