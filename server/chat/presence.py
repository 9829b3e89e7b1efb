"""Presence, as Zulip keeps it: each connection reports ``active`` or ``idle`` at least every
``HEARTBEAT`` seconds; a member is ``online`` if a connection was active recently, ``away`` if
connections are only idle, ``offline`` otherwise (no connection, or none heard from within
``TIMEOUT``). Kept in Redis when ``REDIS_URL`` is set (all processes see it), else in this
process."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

from flask import current_app

HEARTBEAT = 60
TIMEOUT = 140

_local: dict[int, dict[str, tuple[str, float]]] = {}
_lock = threading.Lock()


def _redis():  # type: ignore[no-untyped-def]
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    import redis

    client = current_app.extensions.get("presence_redis")
    if client is None:
        client = current_app.extensions["presence_redis"] = redis.Redis.from_url(url)
    return client


def _key(member_id: int) -> str:
    return f"jiayuan:presence:{member_id}"


SOCKETS_TTL = 24 * 3600  # a socket not heard of for this long is closed when next looked up


def _sockets_key(member_id: int) -> str:
    return f"jiayuan:chat:sockets:{member_id}"


def report(member_id: int, sid: str, status: str) -> None:
    """A connection says it is ``active`` or ``idle`` (or has just connected: active). Its sid
    is kept among the member's open sockets, so that rooms can follow their memberships."""
    now = time.time()
    client = _redis()
    if client is not None:
        pipe = client.pipeline()
        pipe.hset(_key(member_id), sid, f"{status}:{now}")
        pipe.expire(_key(member_id), TIMEOUT)
        pipe.hset(_sockets_key(member_id), sid, now)  # no expiry: see sockets_of
        pipe.execute()
        return
    with _lock:
        _local.setdefault(member_id, {})[sid] = (status, now)


def gone(member_id: int, sid: str) -> None:
    """A connection closed."""
    client = _redis()
    if client is not None:
        pipe = client.pipeline()
        pipe.hdel(_key(member_id), sid)
        pipe.hdel(_sockets_key(member_id), sid)
        pipe.execute()
        return
    with _lock:
        _local.get(member_id, {}).pop(sid, None)


def sockets_of(member_id: int) -> list[str]:
    """The member's open sockets, in every process when ``REDIS_URL`` is set."""
    client = _redis()
    if client is not None:
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
    with _lock:  # in one process its presence records are its open sockets
        return sorted(_local.get(member_id, {}))


def statuses(member_ids: Iterable[int]) -> dict[int, str]:
    ids = list(dict.fromkeys(member_ids))
    now = time.time()
    client = _redis()
    found: dict[int, list[tuple[str, float]]] = {}
    if client is not None:
        pipe = client.pipeline()
        for m in ids:
            pipe.hgetall(_key(m))
        for m, fields in zip(ids, pipe.execute(), strict=True):
            found[m] = []
            for value in fields.values():
                status, _sep, seen = value.decode().partition(":")
                found[m].append((status, float(seen)))
    else:
        with _lock:
            found = {m: list(_local.get(m, {}).values()) for m in ids}
    out = {}
    for m in ids:
        recent = [s for s, seen in found.get(m, []) if now - seen < TIMEOUT]
        out[m] = "online" if "active" in recent else "away" if recent else "offline"
    return out
