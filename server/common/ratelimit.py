"""Rate-limit storage that outlives a Redis outage.

``fallback+redis://…`` (what the config gives Flask-Limiter when ``REDIS_URL`` is set) is the
``limits`` library's Redis storage that, while Redis does not answer, counts in this process's
memory instead: limits still hold per process, sign-in and chat go on, and after
``RETRY_SECONDS`` Redis is tried again. The outage is logged once, and its end once.

This is done in the storage, not with Flask-Limiter's ``RATELIMIT_IN_MEMORY_FALLBACK_ENABLED``:
that setting takes *any* error while limiting (an invalid token in a key function) for a dead
storage, and its fallback counters are never reset.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from limits.storage import MemoryStorage, RedisStorage

log = logging.getLogger(__name__)

RETRY_SECONDS = 10.0


class FallbackRedisStorage(RedisStorage):
    STORAGE_SCHEME = ["fallback+redis", "fallback+rediss"]

    def __init__(self, uri: str, **options: Any) -> None:
        super().__init__(uri.removeprefix("fallback+"), **options)
        self.memory = MemoryStorage()
        self.down_since: float | None = None

    def _redis_or_memory(self, name: str, *args: Any) -> Any:
        if self.down_since is not None:
            if time.monotonic() - self.down_since < RETRY_SECONDS:
                return getattr(self.memory, name)(*args)
        try:
            result = getattr(super(), name)(*args)
        except self.base_exceptions as exc:
            if self.down_since is None:
                log.warning("rate-limit storage unreachable (%s): counting per process", exc)
            self.down_since = time.monotonic()
            return getattr(self.memory, name)(*args)
        if self.down_since is not None:
            log.warning("rate-limit storage is back: counting in Redis again")
            self.down_since = None
        return result

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        return int(self._redis_or_memory("incr", key, expiry, amount))

    def get(self, key: str) -> int:
        return int(self._redis_or_memory("get", key))

    def get_expiry(self, key: str) -> float:
        return float(self._redis_or_memory("get_expiry", key))

    def clear(self, key: str) -> None:
        self._redis_or_memory("clear", key)

    def reset(self) -> int | None:
        self.memory.reset()
        try:
            return super().reset()
        except self.base_exceptions:
            return None
