"""Notifications: one inbox per member, preferences, devices, and push through ``push/``.

Features call ``service.notify(recipients, kind, subject, data)`` inside their transaction and
register their kinds (texts per language, deep-link keys) with ``kinds.register_kind``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

    from server.api import Api


def register(app: Flask, api: Api) -> None:
    from server.notifications import delivery  # noqa: F401  (declares the delivery jobs)
    from server.notifications.routes import blp

    api.register_blueprint(blp)
