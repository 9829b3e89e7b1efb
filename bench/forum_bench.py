"""Forum benchmark: thread lists (page 1 against a deep page), reading a thread, and search,
on a database of 100,000 threads and 1,000,000 posts.

Run from the project root::

    .venv/bin/python bench/forum_bench.py [--db sqlite|postgres|both] [--threads 100000]
        [--posts 1000000] [--duration 10] [--connections 8] [--rounds 1] [--warmup 2]

For each database: a fresh database (as ``api_bench.py``: an SQLite file, or a throwaway
PostgreSQL schema), the real migrations, ``bench/forum_data.py`` in a child process to fill it,
then ``wsgi:app`` under gunicorn (2 sync workers, the same command line as ``api_bench.py``)
and wrk against each target, measured in interleaved rounds (the median round is reported).
Before measuring, the script checks that each deep-page cursor lands where a client walking
the list would (the first item after the cursor is the row the database says comes next).

Searches are limited per member in production (``FORUM_SEARCH_LIMIT``, 60/minute); the bench
raises the limit, keeping the limiter's work in every request. Results are printed as a
Markdown table and written as JSON to ``bench/results/`` (ignored by git).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import asdict
from pathlib import Path
from typing import Any

from api_bench import (
    RESULTS_DIR,
    ROOT,
    Row,
    Sample,
    Server,
    Target,
    fresh_database,
    get_json,
    machine_info,
    measure_once,
    migrate,
    run_wrk,
    server_env,
    summarise,
)

PAGE = 20


def generate(env: dict[str, str], args: argparse.Namespace) -> dict[str, Any]:
    cmd = [sys.executable, str(ROOT / "bench" / "forum_data.py"),
           "--threads", str(args.threads), "--posts", str(args.posts)]  # fmt: skip
    done = subprocess.run(
        cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=3600, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"generating failed:\n{done.stdout}\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _check_deep(base: str, token: str, path: str, expected_first: int) -> None:
    page = get_json(base + path, token)
    ids = [t["id"] for t in page["items"]]
    if len(ids) != PAGE or ids[0] != expected_first:
        raise RuntimeError(f"{path}: expected {PAGE} threads from {expected_first}, got {ids}")


def bench_database(kind: str, args: argparse.Namespace) -> tuple[list[Row], dict[str, Any]]:
    info: dict[str, Any] = {"database": kind}
    print(f"\n== {kind} ==")
    with (
        tempfile.TemporaryDirectory(prefix="jiayuan-forum-bench-") as tmp_name,
        fresh_database(kind, Path(tmp_name)) as url,
    ):
        tmp = Path(tmp_name)
        env = server_env(url)
        env["FORUM_SEARCH_LIMIT"] = "1000000/minute"
        migrate(env)
        started = time.perf_counter()
        data = generate(env, args)
        token = data.pop("token")
        info["data"] = data
        print(
            f"  generated {data['threads']:,} threads, {data['posts']:,} posts, "
            f"{data['reactions']:,} reactions in {time.perf_counter() - started:.0f} s"
        )
        q = urllib.parse.quote
        latest = f"/api/v1/forum/threads?limit={PAGE}"
        cat = f"{latest}&category_id={data['category_id']}"
        top = f"{latest}&sort=top&period=all"
        long_thread = data["long_thread"]
        posts = f"/api/v1/forum/threads/{{}}/posts?limit={PAGE}"
        targets_spec = [
            ("threads latest p1", latest),
            ("threads latest deep", f"{latest}&cursor={q(data['latest_deep'][0])}"),
            ("threads category p1", cat),
            ("threads category deep", f"{cat}&cursor={q(data['category_deep'][0])}"),
            ("threads top p1", top),
            ("threads top deep", f"{top}&cursor={q(data['top_deep'][0])}"),
            ("thread detail", f"/api/v1/forum/threads/{data['typical_thread']}"),
            ("posts p1", posts.format(data["typical_thread"])),
            ("long thread p1", posts.format(long_thread)),
            (
                "long thread deep",
                posts.format(long_thread) + f"&from_number={data['long_thread_posts'] - PAGE}",
            ),  # fmt: skip
            ("search rare word", f"/api/v1/forum/search?q={q(data['rare_term'])}"),
            ("search 2 words", f"/api/v1/forum/search?q={q('仲裁 尾款')}"),
            ("search common word", f"/api/v1/forum/search?q={q('报价')}"),
        ]
        with Server("wsgi:app", env, tmp / "app.log") as app:
            _check_deep(app.base, token, targets_spec[1][1], data["latest_deep"][1])
            _check_deep(app.base, token, targets_spec[3][1], data["category_deep"][1])
            _check_deep(app.base, token, targets_spec[5][1], data["top_deep"][1])
            hits = get_json(app.base + targets_spec[10][1], token)["items"]
            if not hits or "<mark>" not in hits[0]["snippet"]:
                raise RuntimeError(f"search for the rare word found {hits!r}")
            print(f"  served on :{app.port}; deep cursors checked; search finds the rare word")
            targets = [
                Target(name, app, path)
                for name, path in targets_spec
                if not args.only or any(word in name for word in args.only)
            ]
            for target in targets:
                run_wrk(target.url, token, connections=args.connections,
                        duration=args.warmup, threads=args.threads_wrk)  # fmt: skip
            samples: dict[str, list[Sample]] = {t.name: [] for t in targets}
            args.threads, saved = args.threads_wrk, args.threads  # measure_once reads .threads
            try:
                for round_no in range(1, args.rounds + 1):
                    print(f"  round {round_no}/{args.rounds}")
                    for target in targets:
                        time.sleep(1)
                        samples[target.name].append(measure_once(target, token, args))
            finally:
                args.threads = saved
    return [summarise(kind, t, samples[t.name]) for t in targets], info


def format_table(rows: list[Row]) -> str:
    header = "| database | target | req/s | p50 ms | p99 ms | CPU ms/req | worker RSS MB | errors |"
    lines = [header, "|---" * 8 + "|"]
    for r in rows:
        lines.append(
            f"| {r.database} | {r.target} | {r.requests_per_s:,.0f} | {r.p50_ms:.1f} "
            f"| {r.p99_ms:.1f} | {r.cpu_ms_per_request:.2f} | {r.worker_rss_peak_mb:.0f} "
            f"| {r.errors} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--threads", type=int, default=100_000, help="forum threads to make")
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads-wrk", type=int, default=2, help="wrk threads")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument(
        "--only", nargs="*", help="measure the targets whose names contain one of these words"
    )
    args = parser.parse_args(argv)
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    machine = machine_info(kinds)
    rows: list[Row] = []
    infos = []
    for kind in kinds:
        kind_rows, info = bench_database(kind, args)
        rows += kind_rows
        infos.append(info)
    print("\n" + format_table(rows))
    print("\nmachine: " + ", ".join(f"{k} {v}" for k, v in machine.items()))
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = RESULTS_DIR / f"forum-{time.strftime('%Y%m%d-%H%M%S')}.json"
    report = {"machine": machine, "settings": vars(args), "databases": infos,
              "rows": [asdict(r) for r in rows]}  # fmt: skip
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2))
    print(f"written to {out}")
    return 1 if any(r.errors for r in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
