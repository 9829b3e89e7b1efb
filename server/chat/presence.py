"""Presence, as Zulip keeps it: each connection reports ``active`` or ``idle`` at least every
``HEARTBEAT`` seconds; a member is ``online`` if a connection was active recently, ``away`` if
connections are only idle, ``offline`` otherwise (no connection, or none heard from within
``TIMEOUT``). Kept in Redis when ``REDIS_URL`` is set (all processes see it), else in this
process.

Redis down must not take connecting or presence down: every process also keeps its own
sockets' records, and while Redis does not answer (retried after ``RETRY_SECONDS``) presence
and the socket registry answer from them: what this process knows, which is all it can reach
then anyway. The outage is logged once, and its end once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from flask import current_app

if TYPE_CHECKING:
    import redis

log = logging.getLogger(__name__)
T = TypeVar("T")

HEARTBEAT = 60
TIMEOUT = 140

RETRY_SECONDS = 10.0

_local: dict[int, dict[str, tuple[str, float]]] = {}
_lock = threading.Lock()
_down_since: float | None = None


def _redis() -> redis.Redis | None:
    """The Redis client, or None without REDIS_URL or while it is down (between retries)."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    if _down_since is not None and time.monotonic() - _down_since < RETRY_SECONDS:
        return None
    import redis

    client = current_app.extensions.get("presence_redis")
    if client is None:
        client = current_app.extensions["presence_redis"] = redis.Redis.from_url(
            url, socket_connect_timeout=1, socket_timeout=2
        )
    return client


def _shared(action: Callable[[Any], T], local: Callable[[], T]) -> T:
    """``action(client)`` in Redis; this process's records when there is none or it is down."""
    global _down_since
    import redis

    client = _redis()
    if client is None:
        return local()
    try:
        result = action(client)
    except redis.RedisError as exc:
        if _down_since is None:
            log.warning("presence: Redis unreachable (%s): this process's sockets only", exc)
        _down_since = time.monotonic()
        return local()
    if _down_since is not None:
        log.warning("presence: Redis is back")
        _down_since = None
    return result


def _key(member_id: int) -> str:
    return f"jiayuan:presence:{member_id}"


SOCKETS_TTL = 24 * 3600  # a socket not heard of for this long is closed when next looked up


def _sockets_key(member_id: int) -> str:
    return f"jiayuan:chat:sockets:{member_id}"


def report(member_id: int, sid: str, status: str) -> None:
    """A connection says it is ``active`` or ``idle`` (or has just connected: active). Its sid
    is kept among the member's open sockets, so that rooms can follow their memberships."""
    now = time.time()
    with _lock:  # this process's own record, what it answers from while Redis is down
        _local.setdefault(member_id, {})[sid] = (status, now)

    def shared(client: Any) -> None:
        pipe = client.pipeline()
        pipe.hset(_key(member_id), sid, f"{status}:{now}")
        pipe.expire(_key(member_id), TIMEOUT)
        pipe.hset(_sockets_key(member_id), sid, now)  # no expiry: see sockets_of
        pipe.execute()

    _shared(shared, lambda: None)


def gone(member_id: int, sid: str) -> None:
    """A connection closed."""
    with _lock:
        mine = _local.get(member_id, {})
        mine.pop(sid, None)
        if not mine:
            _local.pop(member_id, None)

    def shared(client: Any) -> None:
        pipe = client.pipeline()
        pipe.hdel(_key(member_id), sid)
        pipe.hdel(_sockets_key(member_id), sid)
        pipe.execute()

    _shared(shared, lambda: None)


def _local_sockets(member_id: int) -> list[str]:
    with _lock:  # in one process its presence records are its open sockets
        return sorted(_local.get(member_id, {}))


def sockets_of(member_id: int) -> list[str]:
    """The member's open sockets, in every process when ``REDIS_URL`` is set (this process's
    alone while Redis is down)."""

    def shared(client: Any) -> list[str]:
        # sid -> last heard of. A sid not heard of for a day is a socket of a process that died,
        # or one that never sends heartbeats: it is closed (wherever it is) and forgotten, never
        # just forgotten, so no open socket escapes a membership change or a sign-out.
        heard = client.hgetall(_sockets_key(member_id))
        cutoff = time.time() - SOCKETS_TTL
        stale = [sid for sid, seen in heard.items() if float(seen) < cutoff]
        if stale:
            from server.extensions import socketio

            for sid in stale:
                socketio.server.disconnect(sid.decode(), namespace="/chat")
            client.hdel(_sockets_key(member_id), *stale)
        return sorted(sid.decode() for sid, seen in heard.items() if float(seen) >= cutoff)

    return _shared(shared, lambda: _local_sockets(member_id))


def statuses(member_ids: Iterable[int]) -> dict[int, str]:
    """``online``, ``away`` or ``offline`` of each member (one Redis pipeline, or local)."""
    ids = list(dict.fromkeys(member_ids))
    now = time.time()

    def shared(client: Any) -> dict[int, list[tuple[str, float]]]:
        pipe = client.pipeline()
        for m in ids:
            pipe.hgetall(_key(m))
        found: dict[int, list[tuple[str, float]]] = {}
        for m, fields in zip(ids, pipe.execute(), strict=True):
            found[m] = []
            for value in fields.values():
                status, _sep, seen = value.decode().partition(":")
                found[m].append((status, float(seen)))
        return found

    def local() -> dict[int, list[tuple[str, float]]]:
        with _lock:
            return {m: list(_local.get(m, {}).values()) for m in ids}

    found = _shared(shared, local)
    out = {}
    for m in ids:
        recent = [s for s, seen in found.get(m, []) if now - seen < TIMEOUT]
        out[m] = "online" if "active" in recent else "away" if recent else "offline"
    return out
