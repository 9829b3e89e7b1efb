"""Rate-limit storage that outlives a Redis outage.

``fallback+redis://…`` (what the config gives Flask-Limiter when ``REDIS_URL`` is set) is the
``limits`` library's Redis storage that, while Redis does not answer, counts in this process's
memory instead: limits still hold per process, sign-in and chat go on, and after
``RETRY_SECONDS`` Redis is tried again. The outage is logged once, and its end once.

This is done in the storage, not with Flask-Limiter's ``RATELIMIT_IN_MEMORY_FALLBACK_ENABLED``:
that setting takes *any* error while limiting (an invalid token in a key function) for a dead
storage, and its fallback counters are never reset.

``Limiter`` is Flask-Limiter run only where a route has a limit. Flask-Limiter checks every
request in a before-request hook (for application-wide and default limits: this app has none)
and sets up its per-request context for its after-request and teardown hooks; a route limited
for some methods (``DELETE /me``'s password guesses) is checked on its other methods too. That
cost 0.1–0.2 ms on every request, limited or not. Here the before-request check runs only while
some limit applies to every request, a decorated limit only for its methods, and the two other
hooks only on requests where the limiter did something.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from typing import Any

import flask_limiter
from flask import Flask, request
from flask.globals import request_ctx
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


class Limiter(flask_limiter.Limiter):
    """Flask-Limiter, at work only on requests that a limit applies to (see the module)."""

    def init_app(self, app: Flask) -> None:
        super().init_app(app)
        base = flask_limiter.Limiter
        hooks = {  # its after-request and teardown hooks, as Flask-Limiter registers them
            (getattr(base, "_Limiter__inject_headers"), self),  # noqa: B009 (name-mangled)
            (getattr(base, "_Limiter__release_context"), self),  # noqa: B009
        }
        for funcs in (
            app.after_request_funcs.get(None, []),
            app.teardown_request_funcs.get(None, []),
        ):
            for i, hook in enumerate(funcs):
                if _origin(hook) in hooks:
                    funcs[i] = _when_used(hook)

    def _applies_to_every_request(self) -> bool:
        manager = self.limit_manager
        return bool(
            manager._application_limits
            or manager._default_limits
            or manager._blueprint_limits
            or self._meta_limits
            or self._in_memory_fallback
        )

    def _check_request_limit(
        self, callable_name: str | None = None, in_middleware: bool = True
    ) -> None:
        if not self._applies_to_every_request():
            if in_middleware:
                return  # the before-request hook: no limit applies to every request
            groups = self.limit_manager._decorated_limits.get(callable_name or "")
            method = request.method.lower()
            if groups and all(group.methods and method not in group.methods for group in groups):
                return  # limited for other methods only (and no defaults to fall back on)
        super()._check_request_limit(callable_name, in_middleware)


def _origin(hook: Any) -> tuple[Any, Any]:
    """(function, instance) of a bound method, or of a partial over an instance."""
    if isinstance(hook, functools.partial):
        return hook.func, (hook.args or (None,))[0]
    return getattr(hook, "__func__", None), getattr(hook, "__self__", None)


def _when_used(hook: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Flask-Limiter's after-request or teardown hook, run only on a request where it checked a
    limit (its context exists); otherwise what Flask passed is passed on."""

    @functools.wraps(hook)
    def run(arg: Any) -> Any:
        if hasattr(request_ctx, "_limiter_request_context"):
            return hook(arg)
        return arg

    return run
