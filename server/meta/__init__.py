"""What a client needs before it signs anyone up: ``GET /api/v1/meta`` (no sign-in, cacheable)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

    from server.api import Api


def register(app: Flask, api: Api) -> None:
    from server.meta.routes import blp

    api.register_blueprint(blp)
