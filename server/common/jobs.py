"""Background jobs on Huey, bound to the Flask app.

Tasks are declared at import time with ``@jobs.task()``; the storage behind them is chosen when
the app is created: a SQLite file in ``instance/`` (no server needed, the default), Redis when
``REDIS_URL`` is set, PostgreSQL when ``JOBS_BACKEND=postgres``, or immediate execution (tests).
Every task body runs inside an application context, so it can use ``db.session``.

``make serve`` runs the consumer in-process (threads); production runs ``flask worker``.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from huey import Huey
from huey.consumer import Consumer
from huey.storage import MemoryStorage, PostgresStorage, RedisStorage, SqliteStorage

if TYPE_CHECKING:
    from flask import Flask

log = logging.getLogger(__name__)

QUEUE_NAME = "jiayuan"


class _QuietConsumer(Consumer):
    """A consumer that leaves signal handling to the process that embeds it."""

    def _set_signal_handlers(self) -> None:
        pass


class JobQueue:
    """One Huey instance whose storage is configured by the app factory."""

    def __init__(self) -> None:
        self.huey = Huey(QUEUE_NAME, storage_class=MemoryStorage, utc=True)
        self.app: Flask | None = None
        self._consumer: Consumer | None = None

    def init_app(self, app: Flask) -> None:
        self.app = app
        backend = app.config["JOBS_BACKEND"]
        if backend == "immediate":
            self.huey.immediate = True
            return
        self.huey.immediate = False
        if backend == "redis":
            self.huey.storage = RedisStorage(QUEUE_NAME, url=app.config["REDIS_URL"])
        elif backend == "postgres":
            dsn = app.config["SQLALCHEMY_DATABASE_URI"].replace("postgresql+psycopg", "postgresql")
            self.huey.storage = PostgresStorage(QUEUE_NAME, dsn=dsn)
        elif backend == "sqlite":
            self.huey.storage = SqliteStorage(QUEUE_NAME, filename=app.config["JOBS_SQLITE_PATH"])
        elif backend == "memory":
            self.huey.storage = MemoryStorage(QUEUE_NAME)
        else:
            raise ValueError(f"unknown JOBS_BACKEND {backend!r}")
        app.extensions["jobs"] = self

    def _in_app_context(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            if self.app is None:
                raise RuntimeError("jobs.init_app(app) was never called")
            with self.app.app_context():
                return fn(*args, **kwargs)

        return run

    def task(self, **options: Any) -> Callable[[Callable[..., Any]], Any]:
        """Declare a task: ``@jobs.task(retries=3, retry_delay=10)``; call ``fn(...)`` to enqueue,
        ``fn.schedule(args, delay=60)`` to delay."""

        def decorator(fn: Callable[..., Any]) -> Any:
            return self.huey.task(**options)(self._in_app_context(fn))

        return decorator

    def periodic_task(self, validate_datetime: Callable[..., bool], **options: Any) -> Any:
        """Declare a task that the consumer runs on a schedule (``huey.crontab``)."""

        def decorator(fn: Callable[..., Any]) -> Any:
            return self.huey.periodic_task(validate_datetime, **options)(self._in_app_context(fn))

        return decorator

    def start_worker(self, workers: int = 2) -> Consumer:
        """Run the consumer in threads of this process (``make serve``)."""
        if self._consumer is None:
            self._consumer = _QuietConsumer(
                self.huey, workers=workers, worker_type="thread", check_worker_health=False
            )
            self._consumer.start()
            log.info("in-process job worker started with %d threads", workers)
        return self._consumer

    def stop_worker(self) -> None:
        if self._consumer is not None:
            self._consumer.stop(graceful=True)
            self._consumer = None
