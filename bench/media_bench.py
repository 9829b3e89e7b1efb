"""Media uploads (issue #16): what re-encoding a 12-megapixel photo costs, in time and memory,
and how many uploads per second the production command serves.

Run from the project root::

    .venv/bin/python bench/media_bench.py [--rounds 5] [--seconds 20] [--clients 4]
                                          [--skip-http] [--json PATH]

1. **The pipeline, in-process** (``server.media.processing.process``), on pictures made with
   Pillow (``tests/media/pictures.py``): a 12 MP JPEG photo as a phone writes it (4032 × 3024,
   EXIF orientation 6 and GPS), a 12 MP PNG, a 480 × 270 GIF of 60 frames (kept animated),
   and, as the baseline in the same rounds, **Pillow's defaults** for the same 12 MP photo:
   ``exif_transpose``, a full decode, ``thumbnail`` and WebP at its default effort (what a
   first version would do). Rounds are interleaved; median and worst of ``--rounds``.
2. **Peak memory**: each picture processed once in a fresh process; the figure is the
   process's peak RSS (``VmHWM``) minus its RSS after importing the app and processing a
   small picture (what one upload adds to a worker).
3. **HTTP**: ``gunicorn -k sync -w 2`` (the REST command of the README) on a migrated SQLite
   file, local storage; ``--clients`` threads, each a member of its own, upload 12 MP photos
   (six different ones, ~3.5 MB each) back to back for ``--seconds``: uploads/s, latency
   p50/p99, refused answers, and the workers' peak RSS (sampled every 0.1 s). The ceiling is
   the machine: 2 workers × (1000 / pipeline ms) uploads/s when the pipeline has a core each.

Figures and the machine go to bench/README.md ("Media").
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.chat.live import LiveServer, environment, migrate  # noqa: E402
from tests.media import pictures  # noqa: E402

PHOTO_SIZE = (4032, 3024)


def make_inputs() -> dict[str, bytes]:
    """The pictures measured (made once: a 12 MP photo takes ~1.5 s to draw)."""
    from PIL import Image, ImageDraw

    photo = pictures.noisy_photo(PHOTO_SIZE, seed=1, quality=90, exif=pictures.phone_exif())
    with Image.open(io.BytesIO(photo)) as image:
        out = io.BytesIO()
        image.save(out, "PNG", compress_level=6)
        png = out.getvalue()
    frames = []
    for i in range(60):
        frame = Image.new("RGB", (480, 270), (i * 4 % 256, 90, 160))
        ImageDraw.Draw(frame).ellipse((i * 7, 60, i * 7 + 90, 150), fill=(250, 220, 0))
        frames.append(frame.convert("P", palette=Image.Palette.ADAPTIVE))
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=40, loop=0)
    return {"jpeg_12mp": photo, "png_12mp": png, "gif_60_frames": out.getvalue()}


def pillow_defaults(data: bytes) -> int:
    """The baseline: what Pillow does with no care (full decode, default WebP effort)."""
    from PIL import Image, ImageOps

    with Image.open(io.BytesIO(data)) as opened:
        image = ImageOps.exif_transpose(opened).convert("RGB")
    total = 0
    for box in ((1440, 1440), (427, 427)):
        variant = image.copy()
        variant.thumbnail(box, Image.Resampling.LANCZOS)
        out = io.BytesIO()
        variant.save(out, "WEBP")
        total += out.tell()
    return total


def pipeline(data: bytes) -> tuple[int, Any]:
    from server.media import processing

    limits = processing.Limits(40_000_000, 100, 8_000_000)
    picture = processing.process(data, limits)
    return sum(len(v.data) for v in picture.variants), picture


def in_process(inputs: dict[str, bytes], rounds: int) -> dict[str, Any]:
    cases = {
        **{name: (pipeline, data) for name, data in inputs.items()},
        "jpeg_12mp_pillow_defaults": (pillow_defaults, inputs["jpeg_12mp"]),
    }
    times: dict[str, list[float]] = {name: [] for name in cases}
    sizes: dict[str, int] = {}
    for fn, data in cases.values():
        fn(data)  # warm up (imports, codec tables)
    for _ in range(rounds):
        for name, (fn, data) in cases.items():
            start = time.perf_counter()
            result = fn(data)
            times[name].append((time.perf_counter() - start) * 1000)
            sizes[name] = result[0] if isinstance(result, tuple) else result
    out = {}
    for name, measured in times.items():
        out[name] = {
            "input_bytes": len(cases[name][1]),
            "median_ms": round(statistics.median(measured), 1),
            "max_ms": round(max(measured), 1),
            "output_bytes": sizes[name],
        }
    _, picture = pipeline(inputs["jpeg_12mp"])
    out["jpeg_12mp"]["variants"] = {
        v.name: [v.width, v.height, len(v.data)] for v in picture.variants
    }
    return out


_MEMORY_CHILD = """
import io, sys
sys.path.insert(0, {root!r})
from server.media import processing
from tests.media import pictures
limits = processing.Limits(40_000_000, 100, 8_000_000)
processing.process(pictures.small_png(), limits)
def status(field):
    with open("/proc/self/status") as fh:
        return next(int(l.split()[1]) for l in fh if l.startswith(field + ":"))
before = status("VmRSS")
data = open(sys.argv[1], "rb").read()
processing.process(data, limits)
print(before, status("VmHWM"))  # the peak since exec (ru_maxrss keeps the parent's, on Linux)
"""


def peak_memory(inputs: dict[str, bytes], tmp: Path) -> dict[str, float]:
    out = {}
    for name, data in inputs.items():
        path = tmp / f"{name}.bin"
        path.write_bytes(data)
        code = _MEMORY_CHILD.format(root=str(ROOT))
        done = subprocess.run(
            [sys.executable, "-c", code, str(path)],
            capture_output=True, text=True, check=True, cwd=ROOT,
        )  # fmt: skip
        before, peak = (int(v) for v in done.stdout.split())
        out[name] = round((peak - before) / 1024, 1)  # MiB added by one upload
    return out


def _multipart(data: bytes) -> tuple[bytes, str]:
    boundary = "jiayuan-media-bench"
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="IMG_0001.JPG"\r\nContent-Type: image/jpeg\r\n\r\n').encode()  # fmt: skip
    return head + data + f"\r\n--{boundary}--\r\n".encode(), boundary


def _worker_rss(master: int) -> int:
    """KiB of the gunicorn workers (the master's children)."""
    total = 0
    try:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    except OSError:
        return 0
    for pid in children:
        try:
            with open(f"/proc/{pid}/status") as fh:
                total += next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:"))
        except (OSError, StopIteration):
            pass
    return total


def over_http(photos: list[bytes], seconds: float, clients: int, tmp: Path) -> dict[str, Any]:
    env = environment(tmp / "bench.db")
    env.update(
        MEDIA_ROOT=str(tmp / "media"),
        MEDIA_UPLOAD_LIMIT="100000/minute",
        MEDIA_DAILY_UPLOADS="1000000",
        MEDIA_DAILY_BYTES=str(10**12),
        REGISTER_LIMIT="1000/minute",
    )
    migrate(env)
    bodies = [_multipart(photo) for photo in photos]
    with LiveServer(env, tmp / "server.log", worker_class="sync", workers=2) as server:
        tokens = [server.member(f"uploader{i}")[1] for i in range(clients)]
        latencies: list[float] = []
        statuses: dict[int, int] = {}
        lock = threading.Lock()
        stop = time.monotonic() + seconds + 3  # 3 s of warm-up, not counted
        counted_from = time.monotonic() + 3

        def client(token: str, offset: int) -> None:
            n = offset
            while time.monotonic() < stop:
                body, boundary = bodies[n % len(bodies)]
                n += 1
                request = urllib.request.Request(
                    server.url + "/api/v1/media", data=body, method="POST",
                    headers={"Authorization": f"Bearer {token}",
                             "Content-Type": f"multipart/form-data; boundary={boundary}"},
                )  # fmt: skip
                start = time.monotonic()
                try:
                    with urllib.request.urlopen(request, timeout=60) as answer:
                        answer.read()
                        status = answer.status
                except urllib.error.HTTPError as refused:
                    with refused:
                        status = refused.code
                took = time.monotonic() - start
                if start >= counted_from and time.monotonic() <= stop:
                    with lock:
                        latencies.append(took * 1000)
                        statuses[status] = statuses.get(status, 0) + 1

        assert server.proc is not None
        peak = 0
        threads = [threading.Thread(target=client, args=(t, i)) for i, t in enumerate(tokens)]
        idle_rss = _worker_rss(server.proc.pid)
        for thread in threads:
            thread.start()
        while any(thread.is_alive() for thread in threads):
            peak = max(peak, _worker_rss(server.proc.pid))
            time.sleep(0.1)
    ok = statuses.get(201, 0)
    ordered = sorted(latencies)
    return {
        "clients": clients,
        "seconds": seconds,
        "uploads_per_s": round(ok / seconds, 2),
        "p50_ms": round(ordered[len(ordered) // 2], 0) if ordered else None,
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 0)
        if ordered
        else None,
        "statuses": statuses,
        "workers_idle_rss_mib": round(idle_rss / 1024, 1),
        "workers_peak_rss_mib": round(peak / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    from PIL import __version__ as pillow_version
    from PIL import features

    report: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, Pillow {pillow_version} (libjpeg-turbo "
        f"{features.version('libjpeg_turbo')}, libwebp {features.version('webp')})",
        "load_average_before": os.getloadavg(),
    }
    started = time.perf_counter()
    inputs = make_inputs()
    print(f"inputs made in {time.perf_counter() - started:.1f} s:",
          {k: len(v) for k, v in inputs.items()}, flush=True)  # fmt: skip
    report["pipeline"] = in_process(inputs, args.rounds)
    print(json.dumps(report["pipeline"], indent=1), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        report["peak_memory_mib"] = peak_memory(inputs, Path(tmp))
        print("peak memory added (MiB):", report["peak_memory_mib"], flush=True)
        if not args.skip_http:
            photos = [inputs["jpeg_12mp"]] + [
                pictures.noisy_photo(PHOTO_SIZE, seed=s, exif=pictures.phone_exif())
                for s in range(2, 7)
            ]
            report["http"] = over_http(photos, args.seconds, args.clients, Path(tmp))
            print("http:", report["http"], flush=True)
    report["load_average_after"] = os.getloadavg()
    report["own_peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
