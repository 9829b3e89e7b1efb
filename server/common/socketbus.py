"""The Redis bus between Socket.IO processes, made to recover in seconds and to say so.

python-socketio's ``RedisManager`` re-subscribes after Redis fails with a back-off that grows
to a minute: after a 40 s outage no event crossed processes for another 22 s, and nothing told
the clients that they had missed events. ``ResilientRedisManager``:

- retries every ``RETRY_SECONDS`` (0.5 s, at most 2 s apart), so events flow again within
  seconds of Redis returning;
- knows whether it is listening (``listening``), which ``/readyz/socketio`` reports: a
  Socket.IO process whose bus is down is not ready;
- when it listens again after an outage, tells every socket of this process to catch up:
  ``resync`` (``{"reason": "events_missed"}``) — a client reloads each open conversation's
  history after its newest message, its unread counts and presence, as it does after a
  reconnect. Events published while Redis was down are lost; ``resync`` is how clients learn.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import socketio

log = logging.getLogger(__name__)

RESYNC = "resync"
NAMESPACE = "/chat"


class ResilientRedisManager(socketio.RedisManager):
    RETRY_SECONDS = 0.5
    MAX_RETRY_SECONDS = 2.0

    def __init__(self, url: str, **kwargs: Any) -> None:
        options = kwargs.pop("redis_options", None) or {}
        # no socket_timeout: the listener blocks until a message comes; keepalive finds a
        # peer that vanished without closing, and connecting gives up quickly
        options.setdefault("socket_connect_timeout", 2)
        options.setdefault("socket_keepalive", True)
        super().__init__(url, redis_options=options, **kwargs)
        self.listening = False
        self.down_since: float | None = None

    def _redis_listen_with_retries(self) -> Iterator[Any]:  # pragma: no cover - a thread
        retry = self.RETRY_SECONDS
        while True:
            try:
                self._redis_connect()
                self.pubsub.subscribe(self.channel)
                self._listening()
                retry = self.RETRY_SECONDS
                yield from self.pubsub.listen()
            except Exception as exc:
                self._not_listening(exc)
            time.sleep(retry)  # gevent's when patched
            retry = min(retry * 2, self.MAX_RETRY_SECONDS)

    def _listening(self) -> None:
        was_down = self.down_since
        self.listening, self.down_since = True, None
        if was_down is None:
            return
        log.warning("socket bus: listening again after %.1f s; clients told to resync",
                    time.monotonic() - was_down)  # fmt: skip
        self.resync_local()

    def _not_listening(self, exc: BaseException) -> None:
        if self.down_since is None:
            log.warning("socket bus: lost Redis (%s); retrying every %.1f s",
                        exc, self.RETRY_SECONDS)  # fmt: skip
            self.down_since = time.monotonic()
        self.listening = False

    def resync_local(self) -> None:
        """Tell every socket of this process (only: each process tells its own) to reload."""
        socketio.Manager.emit(self, RESYNC, {"reason": "events_missed"}, NAMESPACE)


def listening(server: Any) -> bool | None:
    """Whether this process's bus listens: None when there is no bus (one process)."""
    manager = getattr(server, "manager", None)
    if not isinstance(manager, ResilientRedisManager):
        return None
    return manager.listening
