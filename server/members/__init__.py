"""Members: profiles, the directory, global roles, privacy consent, export and erasure.

Modules, lowest first (each imports only modules above it):
- ``models``: the account and profile, privacy consents; ``ROLES``, ``STAFF_ROLES``
- ``occupations``: the profile's occupation tags and their labels
- ``schemas``: a member as each audience sees them (card, public profile, self)
- ``service``: profiles, the directory, roles, consent, mentions; the account's export/erasure
- ``blocks``: a member keeps another away from them
- ``bootstrap``: accounts made by operators (``create-admin``) and the demo members
- ``routes``: ``/api/v1/me`` and ``/api/v1/members``
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

    from server.api import Api


def register(app: Flask, api: Api) -> None:
    from server.common import privacy
    from server.common.demo import register_seeder
    from server.members import blocks, service
    from server.members.bootstrap import seed_members
    from server.members.routes import blp

    api.register_blueprint(blp)
    privacy.register(
        "blocks",
        exporter=blocks.export_personal_data,
        eraser=blocks.erase_personal_data,
        order=800,
    )
    # the account last, after every feature has anonymised what the member wrote
    privacy.register(
        "account",
        exporter=service.export_personal_data,
        eraser=service.erase_personal_data,
        order=1000,
    )
    register_seeder("members", seed_members, order=0)
