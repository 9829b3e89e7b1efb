"""Real servers: the production command (gunicorn: a gevent worker for Socket.IO, or several
sync workers for REST) in a subprocess, on a migrated database of the test's own — an SQLite
file, or a schema of its own on PostgreSQL in the PostgreSQL pass (``tests.conftest``'s
``_database_url``) — optionally sharing events through a Redis. Members are made and signed in
over HTTP, as an app would."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from tests.faults import free_port

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PASSWORD = "live-test-password-2026"  # noqa: S105 - throwaway accounts


def environment(database: Path | str, redis_url: str | None = None) -> dict[str, str]:
    """The server's environment: ``database`` is an SQLite file or a database URL."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "TEST_"))}
    for key in ("DATABASE_URL", "REDIS_URL", "RATELIMIT_STORAGE_URI", "JOBS_BACKEND"):
        env.pop(key, None)
    env.update(
        JIAYUAN_ENV="development",
        DATABASE_URL=database if isinstance(database, str) else f"sqlite:///{database}",
        SECRET_KEY=secrets.token_urlsafe(40),
        JWT_SECRET_KEY=secrets.token_urlsafe(40),
        SOCKETIO_ASYNC_MODE="gevent",
        JOBS_BACKEND="memory",
        JOBS_IN_PROCESS="0",
        ALLIANCE_CREATORS="members",
        ARGON2_TIME_COST="1",
        ARGON2_MEMORY_COST="1024",
        ARGON2_PARALLELISM="1",
        LOG_LEVEL="WARNING",
        # limits per process: a shared Redis would carry one run's sign-ups into the next
        RATELIMIT_STORAGE_URI="memory://",
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def migrate(env: dict[str, str]) -> None:
    subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT, env=env, check=True, capture_output=True, timeout=120,
    )  # fmt: skip


class HttpError(Exception):
    def __init__(self, code: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(code, body)
        self.code, self.body, self.headers = code, body, headers or {}


class LiveServer:
    """``gunicorn -k gevent -w 1 wsgi:app`` (Socket.IO), or ``-k sync -w N`` (REST, several
    processes at once), stopped for sure when the block ends."""

    def __init__(
        self,
        env: dict[str, str],
        log: Path,
        app_spec: str = "wsgi:app",
        cwd: Path = ROOT,
        *,
        worker_class: str = "gevent",
        workers: int = 1,
    ) -> None:
        self.env, self.log, self.port = env, log, free_port()
        self.app_spec, self.cwd = app_spec, cwd
        self.worker_class, self.workers = worker_class, workers
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return [str(BIN / "gunicorn"), "-k", self.worker_class, "-w", str(self.workers),
                "-b", f"127.0.0.1:{self.port}", "--worker-connections", "10000",
                "--log-level", "warning", self.app_spec]  # fmt: skip

    def __enter__(self) -> LiveServer:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                self.command(),
                cwd=self.cwd, stdout=out, stderr=subprocess.STDOUT,
                env=self.env if self.worker_class == "gevent"
                else {**self.env, "SOCKETIO_ASYNC_MODE": "threading"},
                start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(self.log.read_text(errors="replace")[-3000:])
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.1)
        self.__exit__()
        raise RuntimeError("the server did not start:\n" + self.log.read_text(errors="replace"))

    def __exit__(self, *_exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)

    def call(self, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(self.url + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=10) as r:
                raw = r.read()
                return json.loads(raw) if raw else None
        except urllib.error.HTTPError as err:
            with err:  # closes the response it holds
                body = json.loads(err.read() or b"null")
                raise HttpError(err.code, body, dict(err.headers.items())) from None

    def member(self, handle: str) -> tuple[int, str]:
        """Register ``handle`` and sign it in: (member id, access token)."""
        tokens = self.call("POST", "/api/v1/auth/register", {
            "email": f"{handle}@example.com", "password": PASSWORD, "display_name": handle,
            "username": handle, "privacy_policy_version": "2026-11-01",
        })  # fmt: skip
        me = self.call("GET", "/api/v1/me", token=tokens["access_token"])
        return me["id"], tokens["access_token"]


class FlaskServe(LiveServer):
    """``flask serve``: what ``make serve`` runs — one process, threads, Socket.IO, and the
    job worker in the same process (the embedded default)."""

    def command(self) -> list[str]:
        return [str(BIN / "flask"), "--app", self.app_spec.split(":")[0], "serve",
                "--host", "127.0.0.1", "--port", str(self.port)]  # fmt: skip
