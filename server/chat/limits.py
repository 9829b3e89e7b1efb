"""Per-member rate limits of chat actions: one counter per member and action, whether the
action arrives over REST or over Socket.IO.

Each action reads its limit from the config (``CHAT_<ACTION>_LIMIT``, Flask-Limiter's notation,
e.g. ``30/minute;600/hour``) and counts in the limiter's storage (memory in one process, Redis
when several share), so that every process and both transports add to the same counter.
REST views take ``@limited("edit")`` (below ``@blp.auth()``); socket handlers call ``check``
(an error ack) or ``allow`` (to drop silently what a client would not miss, like typing).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

from flask import current_app
from limits import RateLimitItem, parse_many

from server.errors import DomainError
from server.extensions import limiter

SETTINGS = {
    "send": "CHAT_SEND_LIMIT",
    "edit": "CHAT_EDIT_LIMIT",
    "react": "CHAT_REACTION_LIMIT",
    "read": "CHAT_READ_LIMIT",
    "typing": "CHAT_TYPING_LIMIT",
    "presence": "CHAT_PRESENCE_LIMIT",
    "open": "CHAT_DIRECT_OPEN_LIMIT",
    "join": "CHAT_JOIN_LIMIT",
}


@functools.lru_cache(maxsize=64)
def _items(spec: str) -> tuple[RateLimitItem, ...]:
    return tuple(parse_many(spec))


def _hit(action: str, member_id: int) -> RateLimitItem | None:
    """Count one ``action`` of the member; the limit it went past, if any."""
    if not limiter.enabled:
        return None
    setting = SETTINGS[action]
    for item in _items(current_app.config[setting]):
        if not limiter.limiter.hit(item, "chat", action, str(member_id)):
            return item
    return None


def allow(action: str, member_id: int) -> bool:
    """Count one ``action``; False past its limit (for actions dropped silently)."""
    return _hit(action, member_id) is None


def check(action: str, member_id: int) -> None:
    """Count one ``action``; past its limit, 429 ``rate_limited`` with ``Retry-After``."""
    item = _hit(action, member_id)
    if item is not None:
        reset, _remaining = limiter.limiter.get_window_stats(item, "chat", action, str(member_id))
        wait = max(1, int(reset - time.time()) + 1)
        raise DomainError("rate_limited", 429, headers={"Retry-After": str(wait)})


def limited(action: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A REST view counts ``action`` for the signed-in member (put it below ``blp.auth``)."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            from server.api import current_member

            check(action, current_member().id)
            return view(*args, **kwargs)

        return wrapper

    return decorator
