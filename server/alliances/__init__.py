"""微聯盟 alliances: groups with roles, join requests, invites and bans. Its ``service`` holds
the scoping rule other features use for objects that belong to an alliance (forum categories
now, events and courses next); it installs that rule into the forum at start-up."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

    from server.api import Api


def register(app: Flask, api: Api) -> None:
    from server.alliances import kinds, personal_data, service
    from server.alliances.demo import seed_alliances
    from server.alliances.routes import blp
    from server.common import privacy
    from server.common.demo import register_seeder
    from server.forum.access import GroupRules, install_group_rules

    kinds.register()
    api.register_blueprint(blp)
    privacy.register(
        "alliances", exporter=personal_data.export, eraser=personal_data.erase, order=150
    )
    install_group_rules(
        GroupRules(
            is_member=service.is_member,
            is_admin=service.is_admin,
            groups_of=service.alliance_ids_of,
            exists=service.exists,
        )
    )
    register_seeder("alliances", seed_alliances, order=60)  # after members and the forum
