"""The chat tests' shared fixtures: a ``chat`` caller and a ``world`` (an alliance with an owner,
a member and a channel both follow), defined in test_rooms.py."""

from tests.chat.test_rooms import chat, world  # noqa: F401
