"""Where a request's time goes: in-process timings and a profile of the app's lists.

Run from the project root::

    .venv/bin/python bench/profile_app.py [--db sqlite|postgres] [--members 2000]
                                          [--requests 200] [--rounds 5] [--pyinstrument]

It builds and seeds a fresh database exactly as ``bench/api_bench.py`` does, then, with no HTTP
server and no load generator (so no noise from them), it drives the app through Flask's test
client and reports:

1. the cost of one whole request: the ceilings, ``/healthz``, ``/api/v1/me``, the directory and
   the forum's thread list, timed round-robin (each keeps its best batch, so all meet the same
   quiet and busy moments of a shared machine), and the SQL each request sends;
2. where the time of ``/api/v1/me``, a directory page and a page of threads goes: stopwatches
   wrapped around the real functions *inside real requests* (token check, query, dump, JSON, every
   before/after-request hook, teardown) and the time the garbage collector ran. Nothing in the
   app is changed: the wrappers live in this process only;
3. the same data fetched other ways (Core columns instead of ORM entities, no selectinload, a
   lighter token check), in the app's own session: what the suggested changes could save;
4. a cProfile of directory and thread-list requests: own time by library, the top functions.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import gc
import os
import pstats
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def interleaved_best_ms(
    calls: dict[str, Callable[[], Any]], n: int, rounds: int = 5
) -> dict[str, float]:
    """Milliseconds per call of each callable, timed round-robin: every round times a batch of
    ``n`` calls of each, and each keeps its best batch."""
    for fn in calls.values():
        for _ in range(min(n, 30)):
            fn()
    best = dict.fromkeys(calls, float("inf"))
    for _ in range(rounds):
        for name, fn in calls.items():
            started = time.perf_counter()
            for _ in range(n):
                fn()
            best[name] = min(best[name], (time.perf_counter() - started) / n)
    return {name: seconds * 1000 for name, seconds in best.items()}


class Stopwatches:
    """Wall time spent inside wrapped callables, added up per label; and the GC's time."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = defaultdict(float)
        self._gc_started = 0.0

    def reset(self) -> None:
        self.spent.clear()

    def wrap(self, label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.spent[label] += time.perf_counter() - started

        return timed

    def on_gc(self, phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        elif self._gc_started:
            self.spent["GC"] += time.perf_counter() - self._gc_started
            self._gc_started = 0.0


@contextmanager
def counting_statements(engine: Any) -> Iterator[dict[str, Any]]:
    """Collect the SQL statements sent, and the transactions ended, while the block runs."""
    import sqlalchemy as sa

    seen: dict[str, Any] = {"statements": [], "rollbacks": 0, "commits": 0, "begun": 0}

    def in_transaction(conn: Any) -> bool | None:
        """psycopg: whether the server has a transaction open (psycopg sends BEGIN and
        ROLLBACK itself, unseen by SQLAlchemy's statement events); None for SQLite."""
        info = getattr(conn.connection.dbapi_connection, "info", None)
        status = getattr(info, "transaction_status", None)
        return None if status is None else status != 0  # 0: IDLE

    def record(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen["statements"].append(" ".join(statement.split())[:90])
        seen["was_open"] = in_transaction(conn)

    def began(conn: Any, *_args: Any) -> None:
        if seen.pop("was_open", None) is False and in_transaction(conn):
            seen["begun"] += 1  # psycopg sent BEGIN before this statement

    def rollback(conn: Any) -> None:
        if in_transaction(conn) is not False:  # psycopg sends no ROLLBACK outside one
            seen["rollbacks"] += 1

    def commit(conn: Any) -> None:
        if in_transaction(conn) is not False:
            seen["commits"] += 1

    listeners = [
        ("before_cursor_execute", record),
        ("after_cursor_execute", began),
        ("rollback", rollback),
        ("commit", commit),
    ]
    for name, fn in listeners:
        sa.event.listen(engine, name, fn)
    try:
        yield seen
    finally:
        for name, fn in listeners:
            sa.event.remove(engine, name, fn)


def library_of(filename: str, function: str) -> str:
    """The package a profiled function belongs to (C functions by the object they act on)."""
    if filename == "~":
        for name in ("sqlite3", "psycopg", "orjson", "hashlib", "zoneinfo"):
            if name in function:
                return name
        return "builtins (C)"
    path = filename.replace("\\", "/")
    if "/site-packages/" in path:
        return path.split("/site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    if f"{ROOT}/server/" in path:
        return "server (the app)"
    return "stdlib/other"


def profile_summary(stats: pstats.Stats, top: int) -> str:
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = sum(v[2] for v in raw.values())
    by_lib: dict[str, float] = defaultdict(float)
    for (filename, _line, function), value in raw.items():
        by_lib[library_of(filename, function)] += value[2]
    lines = ["  own time by library:"]
    for lib, spent in sorted(by_lib.items(), key=lambda kv: -kv[1])[:top]:
        lines.append(f"    {spent / total * 100:5.1f} %  {lib}")
    lines.append("  functions with the most own time:")
    ranked = sorted(raw.items(), key=lambda kv: -kv[1][2])[:top]
    for (filename, line, function), value in ranked:
        where = filename.split("/site-packages/")[-1].replace(f"{ROOT}/", "")
        lines.append(f"    {value[2] / total * 100:5.1f} %  {function}  ({where}:{line})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=200, help="calls per timing batch")
    parser.add_argument("--rounds", type=int, default=5, help="timing rounds (best is kept)")
    parser.add_argument("--pyinstrument", action="store_true", help="also print a call tree")
    args = parser.parse_args(argv)

    # The project root first: the venv's editable install can resolve ``server`` to an empty
    # namespace package when a script is not run from the root.
    sys.path.insert(0, str(ROOT))
    from bench.api_bench import code_state, fresh_database, migrate, seed, server_env

    print(f"code: {code_state()}")
    with (
        tempfile.TemporaryDirectory(prefix="jiayuan-profile-") as tmp,
        fresh_database(args.db, Path(tmp)) as url,
    ):
        env = server_env(url)
        migrate(env)
        seeded = seed(env, args.members)
        os.environ.update(env)  # the app and the ceiling read their settings from here
        report(args, seeded["access_token"])
    return 0


def instrument(app: Any, watches: Stopwatches) -> None:
    """Wrap the functions a request runs through in stopwatches (this process only)."""
    from sqlalchemy.orm import strategies

    from server.auth import tokens
    from server.common.pagination import page_schema
    from server.forum import threads
    from server.forum.schemas import ThreadItemSchema
    from server.members import service
    from server.members.schemas import MeSchema, PublicMemberSchema

    def name_of(fn: Any) -> str:
        fn = getattr(fn, "func", fn)  # functools.partial
        return getattr(fn, "__qualname__", repr(fn)).split(".<locals>.")[-1]

    tokens.authenticate = watches.wrap("token check (authenticate)", tokens.authenticate)
    tokens._live_member = watches.wrap("  of which: session + member query", tokens._live_member)
    service.list_members = watches.wrap("list_members(): the page query", service.list_members)
    threads.list_threads = watches.wrap("list_threads(): the page query", threads.list_threads)
    # SQLAlchemy 2.0 names the loader SelectInLoader, 2.1 _SelectInLoader.
    loader = getattr(strategies, "_SelectInLoader", None) or strategies.SelectInLoader
    loader._load_for_path = watches.wrap(
        "  of which: selectinload of occupations", loader._load_for_path
    )
    for schema in (page_schema(PublicMemberSchema), page_schema(ThreadItemSchema)):
        schema.dump = watches.wrap(  # type: ignore[method-assign]
            "page dump (the compiled serialiser of plain rows)", schema.dump
        )
    MeSchema.dump = watches.wrap("schema dump (marshmallow)", MeSchema.dump)  # type: ignore[method-assign]
    app.json.response = watches.wrap("JSON response (orjson)", app.json.response)
    for hooks, kind in (
        (app.before_request_funcs, "before_request"),
        (app.after_request_funcs, "after_request"),
        (app.teardown_request_funcs, "teardown_request"),
    ):
        for key, funcs in hooks.items():
            hooks[key] = [watches.wrap(f"{kind}: {name_of(f)}", f) for f in funcs]
    app.teardown_appcontext_funcs[:] = [
        watches.wrap(f"teardown_appcontext: {name_of(f)}", f) for f in app.teardown_appcontext_funcs
    ]


def report(args: argparse.Namespace, token: str) -> None:
    from bench import ceiling_app
    from server import create_app
    from server.extensions import db

    app = create_app()
    client = app.test_client()
    bare = ceiling_app.app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    n = args.requests
    list_url = "/api/v1/members?limit=20"
    threads_url = "/api/v1/forum/threads?limit=20"

    def get(c: Any, url: str) -> Callable[[], Any]:
        def call() -> Any:
            response = c.get(url, headers=headers)
            assert response.status_code == 200, response.data
            return response

        return call

    print(f"\n== {args.db}: whole requests, best of {args.rounds} interleaved batches of {n} ==")
    whole = {
        "ceiling GET /members (bare Flask + 1 query)": get(bare, "/members"),
        "ceiling GET /forum/threads (bare Flask + 1 query)": get(bare, "/forum/threads"),
        "ceiling GET /healthz (bare Flask, no DB)": get(bare, "/healthz"),
        "app GET /healthz (the app's stack, no DB)": get(client, "/healthz"),
        "app GET /api/v1/me": get(client, "/api/v1/me"),
        "app GET /api/v1/members?limit=20": get(client, list_url),
        "app GET /api/v1/forum/threads?limit=20": get(client, threads_url),
    }
    ms = interleaved_best_ms(whole, n, rounds=args.rounds)
    for name, value in ms.items():
        print(f"  {value:6.2f} ms  {name}")

    with app.app_context():
        engine = db.engine
    for url in ("/api/v1/me", list_url, threads_url):
        with counting_statements(engine) as seen:
            get(client, url)()
        begun = f", {seen['begun']} BEGIN sent by psycopg" if args.db == "postgres" else ""
        print(
            f"  {url}: {len(seen['statements'])} SQL statements{begun}, "
            f"{seen['rollbacks']} rollback(s), {seen['commits']} commit(s)"
        )
        for statement in seen["statements"]:
            print(f"      {statement}")

    watches = Stopwatches()
    instrument(app, watches)
    gc.callbacks.append(watches.on_gc)
    try:
        for url in ("/api/v1/me", list_url, threads_url):
            call = get(client, url)
            for _ in range(30):
                call()
            best: tuple[float, dict[str, float]] = (float("inf"), {})
            for _ in range(args.rounds):
                watches.reset()
                started = time.perf_counter()
                for _ in range(n):
                    call()
                total = (time.perf_counter() - started) / n * 1000
                if total < best[0]:
                    best = (total, {k: v / n * 1000 for k, v in watches.spent.items()})
            print_breakdown(args.db, url, *best)
    finally:
        gc.callbacks.remove(watches.on_gc)

    alternatives(app, args, headers)

    for url in (list_url, threads_url):
        print(f"\n== {args.db}: cProfile of {n} requests of GET {url} ==")
        call = get(client, url)
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(n):
            call()
        profiler.disable()
        print(profile_summary(pstats.Stats(profiler), top=14))

    if args.pyinstrument:
        try:
            from pyinstrument import Profiler
        except ImportError:
            print("pyinstrument is not installed (.venv/bin/pip install pyinstrument)")
            return
        tree = Profiler(interval=0.0005)
        tree.start()
        for _ in range(n):
            call()
        tree.stop()
        print(tree.output_text(unicode=True, color=False))


def alternatives(app: Any, args: argparse.Namespace, headers: dict[str, str]) -> None:
    """The same data fetched other ways, in the app's own session: what a change could save.

    Nothing here is used by the app; these are the query shapes the README suggests.
    """
    import sqlalchemy as sa
    from flask_jwt_extended import decode_token
    from sqlalchemy.orm import joinedload, load_only, selectinload

    from server.auth.models import AuthSession
    from server.extensions import db
    from server.members import service
    from server.members.models import Member, MemberOccupation

    with app.app_context():
        token = headers["Authorization"].removeprefix("Bearer ")
        claims = decode_token(token)
        fam = claims["fam"]
        viewer = db.session.get(Member, int(claims["sub"]))
        db.session.expunge(viewer)  # list_members only passes it along: no query per call
    visible = (Member.deleted_at.is_(None), Member.profile_visibility == "members")
    table = Member.__table__.c
    # What a directory card shows; ``occupation_tags`` is a column only where the app keeps a
    # copy of the tags on the member row (from 182b4ba on).
    card_names = ["id", "username", "display_name", "avatar_url", "bio", "city", "role"]
    card_names += ["created_at", "deleted_at", "occupation_tags"]
    card = [table[name] for name in card_names if name in table]
    tags_on_row = "occupation_tags" in table

    def newest(stmt: Any) -> Any:
        return stmt.where(*visible).order_by(Member.id.desc()).limit(21)

    def as_is() -> None:
        service.list_members(viewer, q=None, city=None, tag=None, limit=20, cursor=None)

    def orm_selectin() -> None:
        stmt = newest(sa.select(Member).options(selectinload(Member.occupations)))
        db.session.execute(stmt).scalars().all()

    def orm_plain() -> None:
        db.session.execute(newest(sa.select(Member))).scalars().all()

    def orm_load_only() -> None:
        stmt = newest(sa.select(Member).options(load_only(*(getattr(Member, c.key) for c in card))))
        db.session.execute(stmt).scalars().all()

    def core_card() -> None:
        rows = db.session.execute(newest(sa.select(*card))).all()
        if not tags_on_row:  # the tags from their own table, in one query
            ids = [row.id for row in rows]
            tags = sa.select(MemberOccupation.member_id, MemberOccupation.tag)
            db.session.execute(tags.where(MemberOccupation.member_id.in_(ids))).all()

    def auth_as_is() -> None:
        stmt = (
            sa.select(Member)
            .join(AuthSession, AuthSession.member_id == Member.id)
            .where(AuthSession.id == fam, AuthSession.revoked_at.is_(None))
            .where(Member.deleted_at.is_(None))
        )
        db.session.execute(stmt).scalar_one_or_none()

    def auth_before() -> None:
        stmt = (
            sa.select(AuthSession)
            .options(joinedload(AuthSession.member))
            .where(AuthSession.id == fam)
        )
        db.session.execute(stmt).scalar_one_or_none()

    def auth_core() -> None:
        stmt = (
            sa.select(
                AuthSession.revoked_at,
                AuthSession.member_id,
                Member.deleted_at,
                Member.locale,
                Member.time_zone,
            )  # fmt: skip
            .join(Member, Member.id == AuthSession.member_id)
            .where(AuthSession.id == fam)
        )
        db.session.execute(stmt).first()

    def select_1() -> None:
        db.session.execute(sa.text("SELECT 1")).first()

    def in_context(fn: Callable[[], None]) -> Callable[[], None]:
        def call() -> None:
            with app.test_request_context("/api/v1/members", headers=headers):
                fn()

        return call

    core_label = "Core: card columns" + (
        " (tags from the row copy)" if tags_on_row else ", then tags in one IN query"
    )
    shapes = {
        "list_members(), as the app runs it": as_is,
        "ORM entities + selectinload(occupations)": orm_selectin,
        "ORM entities, all columns, no relationship loaded": orm_plain,
        "ORM load_only(card columns)": orm_load_only,
        core_label: core_card,
        "token check query, as the app runs it (the member through its live session)": auth_as_is,
        "token check query before issue #15 (session ORM + joinedload member)": auth_before,
        "token check query as Core columns (session + member join)": auth_core,
        "SELECT 1 (connection, and on SQLite BEGIN and ROLLBACK: the floor)": select_1,
        "(an empty request context, subtracted from the others)": lambda: None,
    }
    ms = interleaved_best_ms(
        {name: in_context(fn) for name, fn in shapes.items()}, args.requests, rounds=args.rounds
    )
    empty = ms.pop("(an empty request context, subtracted from the others)")
    print(f"\n== {args.db}: the same data fetched other ways (each in a fresh session) ==")
    for name, value in ms.items():
        print(f"  {value - empty:6.2f} ms  {name}")


def print_breakdown(db_name: str, url: str, total: float, parts: dict[str, float]) -> None:
    print(f"\n== {db_name}: where the time of GET {url} goes (best batch; ms per request) ==")
    top_level = {k: v for k, v in parts.items() if not k.startswith(" ") and k != "GC"}
    rest = total - sum(top_level.values())
    rows = sorted(top_level.items(), key=lambda kv: -kv[1])
    rows.append(("the rest: werkzeug test client, Flask dispatch, smorest/webargs, …", rest))
    for label, value in rows:
        print(f"  {value:6.2f} ms  {value / total * 100:4.0f} %  {label}")
        for sub, sub_value in parts.items():
            if sub.startswith(" ") and _belongs(sub, label):
                print(f"  {sub_value:6.2f} ms  {sub_value / total * 100:4.0f} %  {sub}")
    print(f"  {total:6.2f} ms  100 %  the whole request")
    gc_ms = parts.get("GC", 0.0)
    print(
        f"  ({gc_ms:.2f} ms, {gc_ms / total * 100:.0f} %, of the above was the garbage collector)"
    )


def _belongs(sub: str, label: str) -> bool:
    if "session + member" in sub:
        return label.startswith("token check")
    if "selectinload" in sub:
        return label.startswith("list_members()")
    return False


if __name__ == "__main__":
    sys.exit(main())
