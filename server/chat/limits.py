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
import logging
import time
from collections.abc import Callable
from typing import Any

from flask import current_app
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter, RateLimiter

from server.errors import DomainError
from server.extensions import limiter

log = logging.getLogger(__name__)

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


# When the shared storage (Redis) cannot be reached, counting goes on in this process for
# ``_RETRY_AFTER`` seconds before the storage is tried again: an outage slows nobody down and
# limits still hold per process. Said once per outage in the log, not once per event.
_RETRY_AFTER = 10.0
_fallback = FixedWindowRateLimiter(MemoryStorage())
_storage_down_since: float | None = None


def _strategy() -> RateLimiter:
    global _storage_down_since
    if _storage_down_since is not None:
        if time.monotonic() - _storage_down_since < _RETRY_AFTER:
            return _fallback
        _storage_down_since = None
        log.info("rate-limit storage: trying the shared storage again")
    return limiter.limiter


def _hit(action: str, member_id: int) -> RateLimitItem | None:
    """Count one ``action`` of the member; the limit it went past, if any."""
    global _storage_down_since
    if not limiter.enabled:
        return None
    setting = SETTINGS[action]
    for item in _items(current_app.config[setting]):
        strategy = _strategy()
        try:
            allowed = strategy.hit(item, "chat", action, str(member_id))
        except Exception:  # the storage's own errors (redis, network): degrade, never fail
            if strategy is _fallback:
                raise
            if _storage_down_since is None:
                log.warning("rate-limit storage unreachable: counting chat limits per process")
            _storage_down_since = time.monotonic()
            allowed = _fallback.hit(item, "chat", action, str(member_id))
        if not allowed:
            return item
    return None


def allow(action: str, member_id: int) -> bool:
    """Count one ``action``; False past its limit (for actions dropped silently)."""
    return _hit(action, member_id) is None


def check(action: str, member_id: int) -> None:
    """Count one ``action``; past its limit, 429 ``rate_limited`` with ``Retry-After``."""
    item = _hit(action, member_id)
    if item is not None:
        try:
            stats = _strategy().get_window_stats(item, "chat", action, str(member_id))
            reset = stats[0]
        except Exception:  # the storage went away between the hit and this read
            reset = time.time() + item.get_expiry()
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
