"""微論壇 the forum: categories, threads and posts, reading state, reactions, moderation,
search. Other features reach it through ``access.install_group_rules`` (groups' rules) and
``demo``'s ``ensure_*`` (their demo content).

Modules, lowest first; each imports only those above it:

- ``models`` — the tables: categories, threads, posts, revisions, state, reactions, flags.
- ``kinds`` — the notification kinds and their subjects.
- ``access`` — who may do what, and the loaders every verb goes through (404 if not visible).
- ``state`` — members' thread state, thread counters and excerpts, search entries, tombstones.
- ``categories`` — categories and who may post in them; organisers manage them.
- ``notices`` — who hears about a post or a moderator's decision, and retracting what is gone.
- ``moderation`` — flags, the review queue, moderators' actions, silences, the audit log.
- ``threads`` — start, list, read, edit and delete threads.
- ``posts`` — reply, edit (with revisions), delete, a thread's posts, reactions.
- ``reading`` — read up to a post, bookmarks, notification levels.
- ``search`` — forum search over the shared index, limited to what the caller may see.
- ``personal_data`` — export and erasure of a member's forum data.
- ``demo`` — demo content; ``ensure_*`` for other features' demo seeders.
- ``schemas`` — request and response schemas.
- ``limits`` — posting rate limits (stricter for new accounts), read from the token.
- ``routes`` — the thin views of ``/api/v1/forum``.
"""

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
