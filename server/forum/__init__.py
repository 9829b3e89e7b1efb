"""微論壇 the forum: categories, threads and posts, reading state, reactions, moderation,
search. Other features reach it only through ``service`` and ``access.install_group_rules``."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

    from server.api import Api


def register(app: Flask, api: Api) -> None:
    from server.common import privacy
    from server.common.demo import register_seeder
    from server.forum import kinds, personal_data
    from server.forum.demo import seed_forum
    from server.forum.routes import blp

    kinds.register()
    api.register_blueprint(blp)
    privacy.register("forum", exporter=personal_data.export, eraser=personal_data.erase, order=100)
    register_seeder("forum", seed_forum, order=50)
