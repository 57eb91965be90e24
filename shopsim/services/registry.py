"""registry: not built yet."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import MetaData

from shopsim.context import ServiceContext

metadata = MetaData()


def init_app(app: Flask, ctx: ServiceContext) -> None:
    """Nothing yet."""
