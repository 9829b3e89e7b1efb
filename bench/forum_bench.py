"""Forum benchmark: thread lists (page 1 against a deep page), reading a thread, and search,
on a database of 100,000 threads and 1,000,000 posts.

Run from the project root::

    .venv/bin/python bench/forum_bench.py [--db sqlite|postgres|both] [--threads 100000]
        [--posts 1000000] [--duration 10] [--connections 8] [--rounds 1] [--warmup 2]

For each database: a fresh database (as ``api_bench.py``: an SQLite file, or a throwaway
PostgreSQL schema), the real migrations, ``bench/forum_data.py`` in a child process to fill it,
then ``wsgi:app`` and the ceiling (``bench/ceiling_app.py``: the same thread and post rows by
the same keyset queries, no auth, no schema) side by side under gunicorn (2 sync workers, the
same command line as ``api_bench.py``) and wrk against each target, measured in interleaved
rounds (the median round is reported). Before measuring, the script checks that each deep-page
cursor lands where a client walking the list would (the first item after the cursor is the row
the database says comes next), and that the ceiling serves the same threads and posts as the app
on page 1, on the deep page of the latest list and on both posts pages it is measured on.

Each thread list is compared with the ceiling's page of the front page (page 1 with page 1, a
deep page with the deep page: the category and top lists have other filters and orders, so
their ratio is against the nearest bare page, not the same rows), a thread's posts with the
ceiling's posts page (page 1 with page 1 of the typical thread, the long thread's deep page with
the same page in the ceiling); thread detail and search have no ceiling.

Searches are limited per member in production (``FORUM_SEARCH_LIMIT``, 60/minute); the bench
raises the limit, keeping the limiter's work in every request. Results are printed as a
Markdown table and written as JSON to ``bench/results/`` (ignored by git).
"""

from __future__ import annotations

import argparse
import base64
import json
import shutil
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
    format_table,
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


def ceiling_cursor(app_cursor: str) -> str:
    """The ceiling's cursor for the row an app cursor of the latest list points at."""
    raw = base64.urlsafe_b64decode(app_cursor + "=" * (-len(app_cursor) % 4))
    pinned, bumped_at, last_id = json.loads(raw)["v"]
    return f"{int(pinned)},{bumped_at['t']},{last_id}"


def _check_same(app: Server, ceiling: Server, token: str, pairs: list[tuple[str, str]]) -> None:
    """The ceiling serves the very rows the app serves, for each (app path, ceiling path)."""
    for app_path, ceiling_path in pairs:
        ids = [item["id"] for item in get_json(app.base + app_path, token)["items"]]
        same = [item["id"] for item in get_json(ceiling.base + ceiling_path, token)["items"]]
        if len(ids) != PAGE or same != ids:
            raise RuntimeError(
                f"the ceiling's {ceiling_path} serves {same}, the app's {app_path} {ids}"
            )


def compare_with_ceilings(rows: list[Row]) -> None:
    """``ratio_to_ceiling`` and ``cpu_ratio_to_ceiling`` as ``api_bench`` computes them: each row
    against the row of its ceiling target, in the same database."""
    by_name = {(r.database, r.target): r for r in rows}
    for row in rows:
        if row.ceiling:
            ceiling = by_name[(row.database, row.ceiling)]
            row.ratio_to_ceiling = round(row.requests_per_s / ceiling.requests_per_s, 3)
            if row.cpu_ms_per_request:
                cpu_ratio = ceiling.cpu_ms_per_request / row.cpu_ms_per_request
                row.cpu_ratio_to_ceiling = round(cpu_ratio, 3)


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
        cat_deep = data["category_deep"][0]
        long_thread = data["long_thread"]
        deep_from = data["long_thread_posts"] - PAGE
        posts = f"/api/v1/forum/threads/{{}}/posts?limit={PAGE}"
        long_deep = posts.format(long_thread) + f"&from_number={deep_from}"
        c_posts = "/forum/threads/{}/posts"
        c_deep = f"/forum/threads?cursor={q(ceiling_cursor(data['latest_deep'][0]))}"
        # (name, served by the ceiling, path, the ceiling target it is compared with), in the
        # order of a round: each ceiling is measured next to the app targets it stands for.
        c1, cd = "ceiling threads p1", "ceiling threads deep"
        cp1, cpd = "ceiling posts p1", "ceiling posts deep"
        targets_spec = [
            ("threads latest p1", False, latest, c1),
            ("threads latest deep", False, f"{latest}&cursor={q(data['latest_deep'][0])}", cd),
            ("threads category p1", False, cat, c1),
            ("threads category deep", False, f"{cat}&cursor={q(cat_deep)}", cd),
            ("threads top p1", False, top, c1),
            ("threads top deep", False, f"{top}&cursor={q(data['top_deep'][0])}", cd),
            (c1, True, "/forum/threads", None),
            (cd, True, c_deep, None),
            ("thread detail", False, f"/api/v1/forum/threads/{data['typical_thread']}", None),
            ("posts p1", False, posts.format(data["typical_thread"]), cp1),
            ("long thread p1", False, posts.format(long_thread), cp1),
            ("long thread deep", False, long_deep, cpd),
            (cp1, True, c_posts.format(data["typical_thread"]), None),
            (cpd, True, c_posts.format(long_thread) + f"?from_number={deep_from}", None),
            ("search rare word", False, f"/api/v1/forum/search?q={q(data['rare_term'])}", None),
            ("search 2 words", False, f"/api/v1/forum/search?q={q('仲裁 尾款')}", None),
            ("search common word", False, f"/api/v1/forum/search?q={q('报价')}", None),
        ]  # fmt: skip
        path_of = {name: path for name, _c, path, _ in targets_spec}
        with (
            Server("wsgi:app", env, tmp / "app.log") as app,
            Server("bench.ceiling_app:app", env, tmp / "ceiling.log") as ceiling,
        ):
            _check_deep(app.base, token, path_of["threads latest deep"], data["latest_deep"][1])
            _check_deep(app.base, token, path_of["threads category deep"], data["category_deep"][1])
            _check_deep(app.base, token, path_of["threads top deep"], data["top_deep"][1])
            hits = get_json(app.base + path_of["search rare word"], token)["items"]
            if not hits or "<mark>" not in hits[0]["snippet"]:
                raise RuntimeError(f"search for the rare word found {hits!r}")
            _check_same(app, ceiling, token, [
                (path_of["threads latest p1"], path_of[c1]),
                (path_of["threads latest deep"], path_of[cd]),
                (path_of["posts p1"], path_of[cp1]),
                (path_of["long thread deep"], path_of[cpd]),
            ])  # fmt: skip
            print(
                f"  app on :{app.port}, ceiling on :{ceiling.port}; deep cursors checked; search "
                "finds the rare word; the ceiling serves the same threads and posts as the app"
            )
            chosen = {
                name
                for name, _c, _p, _ in targets_spec
                if not args.only or any(word in name for word in args.only)
            }
            chosen |= {c for name, _c, _p, c in targets_spec if name in chosen and c}
            targets = [
                Target(name, ceiling if on_ceiling else app, path, compared_with)
                for name, on_ceiling, path, compared_with in targets_spec
                if name in chosen
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
    rows = [summarise(kind, t, samples[t.name]) for t in targets]
    compare_with_ceilings(rows)
    return rows, info


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
    if shutil.which("wrk") is None:
        print("wrk is not installed (Debian: apt-get install wrk)", file=sys.stderr)
        return 2
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    machine = machine_info(kinds)
    rows: list[Row] = []
    infos = []
    for kind in kinds:
        kind_rows, info = bench_database(kind, args)
        rows += kind_rows
        infos.append(info)
    print("\n" + format_table(rows))
    print(
        "\nvs ceiling: thread lists against `ceiling threads p1` / `deep` (the front page's "
        "order), posts against `ceiling posts p1` / `deep`; thread detail and search have none"
    )
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
