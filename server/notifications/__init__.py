"""Notifications: one inbox per member, preferences, devices, and push through ``push/``.

Features call ``service.notify(recipients, kind, subject, data)`` inside their transaction,
register their kinds (texts per language, deep-link keys) with ``kinds.register_kind``, mark
entries read that the member saw elsewhere with ``inbox.mark_read_ids`` and take quoted content
back with ``retraction.forget``.

- ``models``: inbox entries, preferences, quiet hours, devices, push deliveries, announcements.
- ``kinds``: the registered kinds: texts per language, rendering, deep-link keys, defaults.
- ``quiet_hours``: when quiet hours end, so a push waits for then.
- ``preferences``: each member's choices per kind and channel, and quiet hours; the defaults.
- ``devices``: push tokens: registration, the cap per member, which devices are live.
- ``delivery``: the worker: claim due pushes, check again, render, send, record.
- ``pushes``: the push queue: a show per live device, a withdraw per device that showed one.
- ``service``: ``notify()``, what features call: entries written, pushes queued, in one go.
- ``inbox``: a member's entries, the unread count, reading them (here or elsewhere).
- ``retraction``: ``forget()``: entries and pushes stop quoting content that is gone.
- ``announcements``: an organiser tells every member, fanned out in owed steps.
- ``personal_data``: a member's notifications in an export, and their erasure.
- ``schemas``: request and response bodies.
- ``routes``: ``/api/v1/notifications``, ``/api/v1/devices``, ``/api/v1/announcements``.

Each module imports only modules above it in this list.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

    from server.api import Api


def register(app: Flask, api: Api) -> None:
    from server.common import privacy
    from server.notifications import (
        delivery,  # noqa: F401  (declares the delivery jobs)
        personal_data,
    )
    from server.notifications.routes import blp

    api.register_blueprint(blp)
    privacy.register(
        "notifications", exporter=personal_data.export, eraser=personal_data.erase, order=500
    )
