"""Members: profiles, the directory, global roles, privacy consent, export and erasure."""

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
