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
raises the limit, keeping the limiter's work in every request. Each search target is also timed
one request at a time (``wrk -t1 -c1`` with a Lua ``done`` hook that prints percentiles): the
p50/p95/p99 a member waits for a page of results, without the queueing of 8 connections on 2
workers. Before measuring, the script checks that the search pages it measures continue one
another (page 3 is what follows page 2: no repeat, no gap). Results are printed as Markdown
tables and written as JSON to ``bench/results/`` (ignored by git).
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
SEARCHES = {  # target name → query: how many posts each matches is in bench/README.md
    "search common word": "报价",
    "search rare word": "碳中和咨询",
    "search 2 words": "仲裁 尾款",  # found together: as common as either
    "search traditional": "網路安全",  # a Taiwan phrase: folds to 网络安全
    "search medium word": "复盘",  # in one title of twelve: first posts only
    "search 2 unrelated words": "社保 插画",  # each common, rarely together
}
# wrk prints p50/p75/p90/p99 only; this hook prints p50, p95, p99 and the maximum, in ms.
PERCENTILES_LUA = """
done = function(summary, latency, requests)
  io.write(string.format("PERCENTILES %.3f %.3f %.3f %.3f %d\\n",
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, summary.requests))
end
"""


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


def search_page_cursor(base: str, token: str, query: str, page: int) -> str:
    """The cursor a client holds after ``page - 1`` pages of a search, checking that walking
    the pages gives what one page of ``page * PAGE`` results gives: no repeat, no gap."""
    path = f"/api/v1/forum/search?q={urllib.parse.quote(query)}&limit="
    whole = [hit["post_id"] for hit in get_json(f"{base}{path}{page * PAGE}", token)["items"]]
    walked: list[int] = []
    cursor = ""
    for number in range(1, page + 1):
        answer = get_json(f"{base}{path}{PAGE}" + (f"&cursor={cursor}" if cursor else ""), token)
        walked += [hit["post_id"] for hit in answer["items"]]
        if number < page:
            cursor = urllib.parse.quote(answer["next_cursor"] or "")
    if walked != whole or len(whole) != page * PAGE:
        raise RuntimeError(f"search {query!r}: pages {walked} but one page {whole}")
    return cursor


def measure_latency(url: str, token: str, *, duration: int, lua: Path) -> dict[str, float]:
    """One request at a time for ``duration`` seconds: p50, p95, p99 and max in ms."""
    cmd = ["wrk", "-t1", "-c1", f"-d{duration}s", "--timeout", "10s", "-s", str(lua),
           "-H", f"Authorization: Bearer {token}", url]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60, check=False)
    line = next((x for x in done.stdout.splitlines() if x.startswith("PERCENTILES ")), None)
    if done.returncode != 0 or line is None or "Non-2xx" in done.stdout:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    p50, p95, p99, top, requests = line.split()[1:]
    return {"p50_ms": float(p50), "p95_ms": float(p95), "p99_ms": float(p99),
            "max_ms": float(top), "requests": int(requests)}  # fmt: skip


def median_run(runs: list[dict[str, float]]) -> dict[str, float]:
    """Each percentile's median over the rounds; requests added up."""
    middle = {k: sorted(r[k] for r in runs)[len(runs) // 2] for k in runs[0]}
    return {**middle, "requests": sum(r["requests"] for r in runs), "rounds": len(runs)}


def format_latency(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| database | target | query | p50 ms | p95 ms | p99 ms | max ms | requests |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r['database']} | {r['target']} | {r['query']} | {r['p50_ms']:.1f} | "
        f"{r['p95_ms']:.1f} | {r['p99_ms']:.1f} | {r['max_ms']:.1f} | {r['requests']:,} |"
        for r in rows
    ]
    return "\n".join(lines)


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
        ]  # fmt: skip
        targets_spec += [
            (name, False, f"/api/v1/forum/search?q={q(query)}&limit={PAGE}", None)
            for name, query in SEARCHES.items()
        ]
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
            page3 = search_page_cursor(app.base, token, SEARCHES["search common word"], 3)
            p3_path = f"{path_of['search common word']}&cursor={page3}"
            targets_spec.append(("search common word p3", False, p3_path, None))
            path_of["search common word p3"] = p3_path
            queries = {**SEARCHES, "search common word p3": SEARCHES["search common word"]}
            _check_same(app, ceiling, token, [
                (path_of["threads latest p1"], path_of[c1]),
                (path_of["threads latest deep"], path_of[cd]),
                (path_of["posts p1"], path_of[cp1]),
                (path_of["long thread deep"], path_of[cpd]),
            ])  # fmt: skip
            print(
                f"  app on :{app.port}, ceiling on :{ceiling.port}; deep cursors checked; search "
                "finds the rare word and its pages continue; the ceiling serves the same "
                "threads and posts as the app"
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
            lua = tmp / "percentiles.lua"
            lua.write_text(PERCENTILES_LUA)
            timed = [t for t in targets if t.name.startswith("search")]
            runs: dict[str, list[dict[str, float]]] = {t.name: [] for t in timed}
            for round_no in range(1, args.rounds + 1):
                print(f"  one at a time, round {round_no}/{args.rounds}")
                for target in timed:
                    time.sleep(1)
                    run = measure_latency(target.url, token, duration=args.duration, lua=lua)
                    runs[target.name].append(run)
                    print(f"    {target.name:<24} p50 {run['p50_ms']:6.1f} ms  p95 "
                          f"{run['p95_ms']:6.1f} ms  p99 {run['p99_ms']:6.1f} ms")  # fmt: skip
    rows = [summarise(kind, t, samples[t.name]) for t in targets]
    compare_with_ceilings(rows)
    info["latency"] = [
        {"database": kind, "target": name, "query": queries[name], **median_run(found)}
        for name, found in runs.items()
    ]
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
    print("\nsearch, one request at a time (median round):\n")
    print(format_latency([row for info in infos for row in info["latency"]]))
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
