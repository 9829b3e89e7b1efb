"""The reactions members add to forum posts and chat messages: one small fixed set, as
Discourse's default. The name is what the API and the database carry; the emoji is what
clients show. The forum's table checks its column against these names (``forum_reactions``):
adding one takes a migration there."""

from __future__ import annotations

from collections.abc import Mapping

# name → emoji, in the order clients offer them
REACTIONS: Mapping[str, str] = {
    "like": "👍",
    "heart": "❤️",
    "laugh": "😂",
    "wow": "😮",
    "sad": "😢",
    "thanks": "🙏",
}
REACTION_NAMES: tuple[str, ...] = tuple(REACTIONS)
