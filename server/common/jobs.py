"""Background jobs on Huey, bound to the Flask app.

Tasks are declared at import time with ``@jobs.task()``; the storage behind them is chosen when
the app is created: a SQLite file in ``instance/`` (no server needed, the default), Redis when
``REDIS_URL`` is set, PostgreSQL when ``JOBS_BACKEND=postgres``, or immediate execution (tests).
Every task body runs inside an application context, so it can use ``db.session``.

``make serve`` runs the consumer in-process (threads); production runs ``flask worker``.

Stopping a worker: SIGTERM (or SIGINT) is graceful. ``jobs.stopping`` is set, so that long work
(``server.common.owed``) hands itself back between two steps, and the consumer waits up to
``JOBS_SHUTDOWN_SECONDS`` for the tasks running now; a second signal stops at once. Work that
must happen does not depend on this: it is recorded in the database and resumed by the sweep.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from huey import Huey
from huey.consumer import Consumer
from huey.storage import MemoryStorage, PostgresStorage, RedisStorage, SqliteStorage

if TYPE_CHECKING:
    from flask import Flask

log = logging.getLogger(__name__)

QUEUE_NAME = "jiayuan"


class _Consumer(Consumer):
    """Huey's consumer, made to stop gracefully on SIGTERM (a deploy's stop signal; Huey's
    default treats it as "stop now") and to tell the tasks running that it is stopping."""

    def __init__(self, queue: JobQueue, **options: Any) -> None:
        self.queue = queue
        options.setdefault("graceful_signal", "TERM")
        super().__init__(queue.huey, **options)

    def stop(self, graceful: bool = False) -> None:
        self.queue.stopping.set()
        super().stop(graceful=graceful)


class _QuietConsumer(_Consumer):
    """A consumer that leaves signal handling to the process that embeds it."""

    def _set_signal_handlers(self) -> None:
        pass


class JobQueue:
    """One Huey instance whose storage is configured by the app factory."""

    def __init__(self) -> None:
        self.huey = Huey(QUEUE_NAME, storage_class=MemoryStorage, utc=True)
        self.app: Flask | None = None
        self._consumer: Consumer | None = None
        # set when this process's consumer is stopping: long tasks hand their work back
        self.stopping = threading.Event()
        self._started: set[str] = set()
        self._started_lock = threading.Lock()

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

    def on_startup(self) -> Callable[[Callable[[], Any]], Any]:
        """Declare a function the worker runs once per process when it starts (in an app
        context; Huey itself calls its hooks once per worker thread)."""

        def decorator(fn: Callable[[], Any]) -> Any:
            name = f"{fn.__module__}.{fn.__qualname__}"
            body = self._in_app_context(fn)

            def once() -> None:
                with self._started_lock:
                    if name in self._started:
                        return
                    self._started.add(name)
                body()

            self.huey.on_startup(name)(once)
            return fn

        return decorator

    def consumer(self, workers: int = 2, **options: Any) -> Consumer:
        """The consumer ``flask worker`` runs: threads, graceful on SIGTERM."""
        self.stopping.clear()
        shutdown = self.app.config.get("JOBS_SHUTDOWN_SECONDS", 30) if self.app else 30
        options.setdefault("shutdown_timeout", shutdown)
        return _Consumer(self, workers=workers, worker_type="thread", **options)

    def start_worker(self, workers: int = 2) -> Consumer:
        """Run the consumer in threads of this process (``make serve``)."""
        if self._consumer is None:
            self.stopping.clear()
            self._consumer = _QuietConsumer(
                self, workers=workers, worker_type="thread", check_worker_health=False
            )
            self._consumer.start()
            log.info("in-process job worker started with %d threads", workers)
        return self._consumer

    def stop_worker(self) -> None:
        if self._consumer is not None:
            self._consumer.stop(graceful=True)
            self._consumer = None
