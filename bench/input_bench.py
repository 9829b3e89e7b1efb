"""What issue #10's hardening costs and what it fixed, in-process (no HTTP server, no load
generator), each beside its bare ceiling in the same run:

1. the strict JSON reader (``server.common.jsonio.loads``: orjson, then the depth and NUL walks)
   against bare ``orjson.loads`` and the standard ``json.loads`` on a typical body;
2. search highlighting of 5,000 characters whose folding changes length (ligatures ﬁ, ㍿)
   against the same length of text whose folding keeps it (the fast path), and against the old
   character-by-character fold;
3. ``POST /auth/password-reset`` for a member's address and for a stranger's, interleaved, with
   a real (memory) job queue: the answer must not tell them apart.

    .venv/bin/python bench/input_bench.py [--rounds 2000]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable

import orjson


def _figures(samples: list[float]) -> str:
    samples = sorted(samples)
    p50 = statistics.median(samples)
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    return f"p50 {p50 * 1000:8.3f} ms  p99 {p99 * 1000:8.3f} ms"


def _time(fn: Callable[[], object], rounds: int) -> list[float]:
    out = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def _strict(body: bytes) -> object:
    """What ``server.api.Parser`` does with a body."""
    from server.common import jsonio

    data = jsonio.loads(body)
    return jsonio.may_hold_nul(body) and jsonio.has_nul(data)


def bench_json(rounds: int) -> None:
    body = orjson.dumps(
        {
            "title": "杭州自由职业者的合同与报价经验" * 2,
            "body": "这是一条足够长的测试内容，讲合同、报价和回款。" * 40,
            "tags": ["合同", "报价", "回款"],
            "category_id": 12,
            "reply_to_id": None,
            "attachments": [{"url": f"https://example.com/{i}.png", "w": 800} for i in range(5)],
        }
    )
    print(f"\n1. JSON bodies ({len(body):,} bytes), {rounds:,} parses each")
    for name, fn in (
        ("jsonio (as the parser)", lambda: _strict(body)),
        ("orjson.loads (bare)", lambda: orjson.loads(body)),
        ("json.loads (stdlib)", lambda: json.loads(body)),  # noqa: TID251
    ):
        print(f"   {name:24} {_figures(_time(fn, rounds))}")


def bench_highlight(rounds: int) -> None:
    from server.common import folding, search

    ligatures = ("ﬁ㍿ 碳中和咨詢服務 " * 500)[:5000]
    plain = ("碳中和咨詢服務 hello " * 400)[:5000]

    def old_fold_with_map(text: str) -> tuple[str, list[int]]:  # before issue #10
        folded, origin = [], []
        for i, char in enumerate(text):
            f = search.fold(char)
            folded.append(f)
            origin.extend([i] * len(f))
        return "".join(folded), origin

    search.highlight(plain, "咨询")  # loads the segmenter's dictionary (~0.1 s, once)
    n = max(20, rounds // 20)
    print(f"\n2. folding 5,000 characters for highlighting, {n} runs each")
    for name, fn in (
        ("ligatures (now)", lambda: folding.fold_with_map(ligatures)),
        ("plain text (ceiling)", lambda: folding.fold_with_map(plain)),
        ("ligatures (before)", lambda: old_fold_with_map(ligatures)),
        ("whole highlight (now)", lambda: search.highlight(ligatures, "咨询 file")),
    ):
        print(f"   {name:24} {_figures(_time(fn, n))}")


def bench_reset(rounds: int) -> None:
    import subprocess
    import sys

    tmp = tempfile.mkdtemp()
    url = f"sqlite:///{tmp}/bench.db"
    env = {**os.environ, "DATABASE_URL": url, "JIAYUAN_ENV": "test", "FLASK_APP": "wsgi"}
    env.update(SECRET_KEY="s" * 40, JWT_SECRET_KEY="j" * 40)
    subprocess.run([sys.executable, "-m", "flask", "db", "upgrade"], env=env, check=True,
                   capture_output=True)  # fmt: skip
    from server import create_app

    app = create_app(
        {
            "JIAYUAN_ENV": "test",
            "SECRET_KEY": "s" * 40,
            "JWT_SECRET_KEY": "j" * 40,
            "DATABASE_URL": url,
            "SQLALCHEMY_DATABASE_URI": url,
            "JOBS_BACKEND": "memory",
            "RATELIMIT_ENABLED": "0",
            "LOG_LEVEL": "WARNING",
        }
    )
    client = app.test_client()
    client.post(
        "/api/v1/auth/register",
        json={
            "email": "known@example.com",
            "password": "correct horse battery",
            "display_name": "甲",
            "privacy_policy_version": app.config["PRIVACY_POLICY_VERSION"],
        },
    )
    times: dict[str, list[float]] = {"member's address": [], "stranger's address": []}
    emails = {"member's address": "known@example.com", "stranger's address": "nobody@example.com"}
    for _ in range(rounds):
        for name, email in emails.items():
            start = time.perf_counter()
            client.post("/api/v1/auth/password-reset", json={"email": email})
            times[name].append(time.perf_counter() - start)
    print(f"\n3. POST /auth/password-reset, {rounds:,} each, interleaved (first 10 % dropped)")
    for name, samples in times.items():
        print(f"   {name:24} {_figures(samples[rounds // 10 :])}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2000)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} CPUs; python {os.sys.version.split()[0]}")
    bench_json(args.rounds * 10)
    bench_highlight(args.rounds)
    bench_reset(args.rounds)


if __name__ == "__main__":
    main()
