"""The concurrency harness: N clients at once against a real server (gunicorn, several sync
worker processes, as production's REST pool) on the pass's database — an SQLite file in the
SQLite pass, a schema of its own on PostgreSQL in the PostgreSQL pass — and then assertions on
what the database holds.

The ``race`` fixture (``tests/conftest.py``) starts one such server for the whole run. A test
makes its members, then fires the same request from many threads released together::

    def test_one_like_per_member(race):
        author, token = race.member("author")
        post = race.call("POST", "/api/v1/…", {...}, token)
        like = lambda i: race.request("PUT", f"/api/v1/…/{post['id']}/like", token=token)
        answers = race.at_once(8, like)
        assert race.statuses(answers) == {204: 8}
        assert race.scalar("SELECT count(*) FROM … WHERE post_id = :p", p=post["id"]) == 1

Every answer is an ``Answer`` (status and JSON body), whatever its status: a 5xx is a result to
assert on, not an exception. Rate limits are off."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from tests.chat.live import PASSWORD, FlaskServe, LiveServer, environment, migrate
from tests.conftest import _database_url

WORKERS = 4


@dataclass
class Answer:
    status: int
    body: Any


class Race:
    """``Race(tmp)``: gunicorn with ``WORKERS`` sync processes, jobs run in the request.
    ``Race(tmp, embedded=True, env={...})``: ``flask serve`` on an SQLite file with its job
    worker in the process, as ``make serve`` runs (the embedded default)."""

    def __init__(
        self, tmp: Path, *, embedded: bool = False, env: dict[str, str] | None = None
    ) -> None:
        self.url, self._drop = (
            (f"sqlite:///{tmp / 'embedded.db'}", lambda: None) if embedded else _database_url(tmp)
        )
        server_env = environment(self.url)
        server_env.update(JOBS_BACKEND="immediate", RATELIMIT_ENABLED="0")
        if embedded:
            server_env.update(JOBS_BACKEND="sqlite", JOBS_IN_PROCESS="1",
                              JOBS_SQLITE_PATH=str(tmp / "jobs.db"),
                              SOCKETIO_ASYNC_MODE="threading")  # fmt: skip
        server_env.update(env or {})
        migrate(server_env)
        self.server: LiveServer = (
            FlaskServe(server_env, tmp / "serve.log")
            if embedded
            else LiveServer(server_env, tmp / "race.log", worker_class="sync", workers=WORKERS)
        )
        self.engine = sa.create_engine(self.url.replace("postgresql://", "postgresql+psycopg://"))
        self.run = uuid.uuid4().hex[:6]

    def __enter__(self) -> Race:
        self.server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.__exit__(*exc)
        self.engine.dispose()
        self._drop()

    # --- requests ------------------------------------------------------------------------

    def request(
        self, method: str, path: str, body: Any = None, token: str | None = None, **headers: str
    ) -> Answer:
        data = json.dumps(body).encode() if body is not None else None
        sent = {"Content-Type": "application/json", **headers}
        if token:
            sent["Authorization"] = f"Bearer {token}"
        req = urllib.request.Request(self.server.url + path, data=data, headers=sent,
                                     method=method)  # fmt: skip
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                raw = r.read()
                return Answer(r.status, json.loads(raw) if raw else None)
        except urllib.error.HTTPError as err:
            with err:
                raw = err.read()
            try:
                return Answer(err.code, json.loads(raw) if raw else None)
            except ValueError:
                return Answer(err.code, raw.decode(errors="replace"))

    def call(self, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
        """One request that must succeed (setting up a race); its body."""
        answer = self.request(method, path, body, token)
        assert answer.status < 300, (method, path, answer)
        return answer.body

    def member(self, handle: str, role: str = "member") -> tuple[int, str]:
        """A new member (unique to this run), signed in: (id, access token)."""
        handle = f"{handle}_{self.run}_{uuid.uuid4().hex[:4]}"
        tokens = self.call("POST", "/api/v1/auth/register", {
            "email": f"{handle}@example.com", "password": PASSWORD, "display_name": handle,
            "username": handle, "privacy_policy_version": "2026-11-01",
        })  # fmt: skip
        me = self.call("GET", "/api/v1/me", token=tokens["access_token"])
        if role != "member":
            self.execute("UPDATE members SET role = :r WHERE id = :i", r=role, i=me["id"])
        return me["id"], tokens["access_token"]

    def at_once(self, n: int, fn: Callable[[int], Any]) -> list[Any]:
        """``fn(0) … fn(n-1)`` in n threads released together; their results, in order."""
        barrier = threading.Barrier(n)
        results: list[Any] = [None] * n

        def run(i: int) -> None:
            barrier.wait()
            try:
                results[i] = fn(i)
            except Exception as exc:  # a client error is a result too
                results[i] = exc

        threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        return results

    @staticmethod
    def statuses(answers: list[Any]) -> dict[int, int]:
        return dict(Counter(a.status if isinstance(a, Answer) else -1 for a in answers))

    # --- the database --------------------------------------------------------------------

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(sa.text(sql), params).scalar()

    def rows(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        with self.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(sql), params)]

    def execute(self, sql: str, **params: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.text(sql), params)
