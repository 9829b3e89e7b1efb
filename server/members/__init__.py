"""Members: profiles, the directory, global roles, privacy consent, export and erasure."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

    from server.api import Api


def register(app: Flask, api: Api) -> None:
    from server.common.demo import register_seeder
    from server.members import blocks
    from server.members.bootstrap import seed_members
    from server.members.routes import blp

    api.register_blueprint(blp)
    blocks.register()
    register_seeder("members", seed_members, order=0)
