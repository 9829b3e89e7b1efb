"""微聯盟 alliances: groups with roles, join requests, invites and bans. ``scope`` is the rule
other features use for objects that belong to an alliance (forum categories now, events and
courses next); ``register`` installs it into the forum at start-up.

- ``models``: alliances, memberships and roles, tags, join requests, invite links, bans.
- ``kinds``: the notification kinds alliances send (join requests, decisions), their subjects.
- ``scope``: the scoping rule other features ask (``role_in``, ``is_member``, ``is_manager``…).
- ``ranks``: the rank rule: ``outranks``, ``may_lift`` (mutes, bans), rank-backed invite links.
- ``access``: an alliance as one member sees it (``load``, ``require_manager``), for the verbs.
- ``service``: the alliance itself: create, describe, list (discover, or one's own).
- ``joining``: joining at once, by a request managers decide, or through an invite link.
- ``membership``: the member directory, leaving, roles, removal, bans; ``on_member_left``.
- ``schemas``: request and response bodies, per audience.
- ``routes``: ``/api/v1/alliances``, thin views over ``service``, ``joining``, ``membership``.
- ``personal_data``: a member's alliances in an export, and what erasure does to them.
- ``demo``: the demo alliances of ``make demo``.

Each module imports only modules above it in this list.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

    from server.api import Api


def register(app: Flask, api: Api) -> None:
    from server.alliances import kinds, personal_data, scope
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
            is_member=scope.is_member,
            is_admin=scope.is_manager,
            groups_of=scope.alliance_ids_of,
            exists=scope.exists,
        )
    )
    register_seeder("alliances", seed_alliances, order=60)  # after members and the forum
