#!/usr/bin/env python
"""`make bench`: the app under load, as it runs in production.

- gunicorn with `gunicorn.conf.py` (the file the Dockerfile uses) and the settings module
  `strathwell.settings` (DEBUG off, Redis cache and broker: webhooks acknowledged and left
  to the worker), on PostgreSQL, in a database of its own (`<DATABASE_URL>` with the name
  `strathwell_bench`, dropped and recreated);
- a fixed data set (`seed_load.py seed`: 60 bookings of 4 vendors, 40 templates);
- wrk (Debian's `wrk`; installed when run as root, else the exact command is printed) from
  another process: 2 threads × 16 connections, each path for DURATION seconds, three
  interleaved rounds, medians; the webhook path posts distinct events signed just before
  each round (`wrk/webhook.lua`);
- in process (`seed_load.py inprocess`): queries per request, the API bookings page against
  the same page built by hand, and the worker's processing of a 3-vendor success.

Prints the table and writes `benchmarks/RESULTS.md` and `benchmarks/throughput.png`.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/strathwell .venv/bin/python benchmarks/load.py
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
HERE = ROOT / "benchmarks"
PY = sys.executable
PORT = int(os.environ.get("BENCH_PORT", "8765"))
DURATION = int(os.environ.get("BENCH_DURATION", "10"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
THREADS, CONNECTIONS = 2, 16
EVENTS_PER_ROUND = 40_000
PATHS = [
    ("health", "GET /health", "/api/v1/health"),
    ("templates", "GET /templates (anonymous)", "/api/v1/templates"),
    ("bookings", "GET /bookings", "/api/v1/bookings"),
    ("webhook", "POST /webhooks/stripe (ingest)", "/api/v1/webhooks/stripe"),
]
# The public catalogue is read without a login (as the issue measured it: 2 queries); the
# bookings page as its organizer (a bearer token: 4 queries with the user row).
ANONYMOUS = {"health", "templates"}
WRK_INSTALL = "apt-get install -y wrk"


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        print(f"wrk is missing: {WRK_INSTALL}", flush=True)
        subprocess.run(["apt-get", "install", "-y", "wrk"], check=True)
        found = shutil.which("wrk")
        if found:
            return found
    raise SystemExit(
        f"`make bench` needs the wrk load generator (Debian package `wrk`): run\n"
        f"    sudo {WRK_INSTALL}\nand `make bench` again."
    )


def bench_database_url() -> str:
    url = urlsplit(os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/x")
    return urlunsplit(url._replace(path="/strathwell_bench"))


def recreate_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS strathwell_bench WITH (FORCE)")
        conn.execute("CREATE DATABASE strathwell_bench")


def app_env(database_url: str) -> dict:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "strathwell.settings",
            "APP_ENV": "local",
            "DEBUG": "false",
            "DATABASE_URL": database_url,
            "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13"),
            "CELERY_KEY_PREFIX": "strathwell-bench:",
            "STRIPE_WEBHOOK_SECRET": "whsec_bench_only_not_a_secret",
            "STRIPE_SECRET_KEY": "",
            "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
            # The benchmark is one user hammering the API: no rate limit in the way.
            "THROTTLE_USER_RATE": "100000000/min",
            "PORT": str(PORT),
            "GUNICORN_LOG_LEVEL": "warning",
            "WEBHOOK_PROCESSING": "async",
        }
    )
    return env


def run_py(env: dict, *args: str) -> str:
    done = subprocess.run(
        [PY, *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    return done.stdout


def wait_until_up(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"gunicorn did not answer {url} within {timeout:.0f} s")


def wrk(binary: str, path: str, script: str, env: dict) -> dict:
    out = subprocess.run(
        [
            binary,
            f"-t{THREADS}",
            f"-c{CONNECTIONS}",
            f"-d{DURATION}s",
            "--latency",
            "-s",
            str(HERE / "wrk" / script),
            f"http://127.0.0.1:{PORT}{path}",
        ],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("BENCH_JSON "))
    data = json.loads(line.removeprefix("BENCH_JSON "))
    data["rps"] = data["requests"] / (data["duration_us"] / 1e6)
    return data


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{mem_kb / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        mem = "?"
    return (
        f"{cpu}, {os.cpu_count()} CPUs, {mem} RAM, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}; PostgreSQL, Redis and wrk on the same machine"
    )


def main() -> None:
    binary = ensure_wrk()
    database_url = bench_database_url()
    recreate_database(database_url)
    env = app_env(database_url)
    run_py(env, "manage.py", "migrate", "--noinput")
    token = json.loads(run_py(env, "benchmarks/seed_load.py", "seed"))["access"]
    gunicorn_conf = __import__("runpy").run_path(str(ROOT / "gunicorn.conf.py"))
    server = subprocess.Popen(
        [str(Path(PY).parent / "gunicorn"), "-c", "gunicorn.conf.py", "strathwell.wsgi"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(HERE / "gunicorn-bench.log", "w"),  # noqa: SIM115 - closed with the process
    )
    results: dict[str, list[dict]] = {key: [] for key, _, _ in PATHS}
    try:
        wait_until_up(f"http://127.0.0.1:{PORT}/api/v1/health")
        wrk_env = {
            **env,
            "BENCH_WRK_DIR": str(HERE / "wrk"),
            "BENCH_TOKEN": token,
            "BENCH_THREADS": str(THREADS),
        }
        for round_no in range(ROUNDS):
            events_file = HERE / f".events-{round_no}.tsv"
            events_file.write_text(
                run_py(
                    env, "benchmarks/seed_load.py", "events", str(EVENTS_PER_ROUND), str(round_no)
                )
            )
            for key, label, path in PATHS:
                script = "webhook.lua" if key == "webhook" else "get.lua"
                path_env = {**wrk_env, "BENCH_EVENTS": str(events_file)}
                if key in ANONYMOUS:
                    path_env["BENCH_TOKEN"] = ""
                data = wrk(binary, path, script, path_env)
                results[key].append(data)
                print(f"round {round_no + 1}: {label:<34} {data['rps']:8.1f} req/s", flush=True)
            events_file.unlink()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    if os.environ.get("BENCH_INPROCESS", "1") == "0":  # comparing gunicorn settings only
        for key, label, _ in PATHS:
            ratios = [
                r["rps"] / h["rps"] for r, h in zip(results[key], results["health"], strict=True)
            ]
            runs = results[key]
            print(
                f"{label:<34} {statistics.median(r['rps'] for r in runs):7.1f} req/s  "
                f"×/health {statistics.median(ratios):.2f}  "
                f"p99 {statistics.median(r['p99_us'] for r in runs) / 1000:7.1f} ms  "
                f"errors {sum(r['errors'] for r in runs)}"
            )
        return
    inproc = json.loads(run_py(env, "benchmarks/seed_load.py", "inprocess"))
    report(results, inproc, gunicorn_conf)


def report(results: dict, inproc: dict, conf: dict) -> None:
    health = [r["rps"] for r in results["health"]]
    rows = []
    for key, label, _ in PATHS:
        runs = results[key]
        ratios = [r["rps"] / h for r, h in zip(runs, health, strict=True)]
        rows.append(
            {
                "key": key,
                "label": label,
                "rps": statistics.median(r["rps"] for r in runs),
                "ratio": statistics.median(ratios),
                "p50": statistics.median(r["p50_us"] for r in runs) / 1000,
                "p99": statistics.median(r["p99_us"] for r in runs) / 1000,
                "errors": sum(r["errors"] for r in runs),
                "queries": {"webhook": 1}.get(key, inproc["queries"].get(key)),
            }
        )
    header = "| path | req/s | × /health | p50 ms | p99 ms | errors | queries/request |"
    lines = [header, "|---|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        lines.append(
            f"| {row['label']} | {row['rps']:.0f} | {row['ratio']:.2f} | {row['p50']:.1f} "
            f"| {row['p99']:.1f} | {row['errors']} | {row['queries']} |"
        )
    table = "\n".join(lines)
    extra = (
        f"- In process, the API bookings page vs the same page built by hand (same queries): "
        f"{inproc['bookings_api_per_s']:.0f}/s vs {inproc['bookings_hand_per_s']:.0f}/s = "
        f"**{inproc['bookings_api_vs_hand']:.2f}×**.\n"
        f"- The worker's processing of a 3-vendor payment success (units held, notifications, "
        f"ledger, payouts): **{inproc['queries']['webhook_processing']} queries**, "
        f"{inproc['worker_events_per_s']:.0f} events/s (p50 {inproc['worker_p50_ms']:.1f} ms) "
        f"in one process, vs `GET /health` {inproc['health_inprocess_per_s']:.0f}/s in that "
        f"process = **{inproc['worker_vs_health']:.2f}×**."
    )
    print()
    print(table)
    print()
    print(extra)
    config = (
        f"gunicorn: {conf.get('workers')} workers × {conf.get('threads')} threads "
        f"(`{conf.get('worker_class', 'gthread' if conf.get('threads', 1) > 1 else 'sync')}`), "
        f"max_requests {conf.get('max_requests')} ± {conf.get('max_requests_jitter')}; wrk "
        f"{THREADS} threads × {CONNECTIONS} connections, {DURATION} s per path, {ROUNDS} "
        f"interleaved rounds, medians."
    )
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    plot(rows)
    (HERE / "RESULTS.md").write_text(
        f"# Load benchmark (`make bench`)\n\nRun {stamp} on: {machine()}.\n\n{config}\n\n"
        f"{table}\n\n{extra}\n\n![throughput per path](throughput.png)\n\n"
        + (HERE / "RESULTS.notes.md").read_text()
    )
    print(f"\nwrote {HERE / 'RESULTS.md'}")


def plot(rows: list[dict]) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot (pip install -r benchmarks/requirements.txt)")
        return
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.barh([r["label"] for r in rows][::-1], [r["rps"] for r in rows][::-1], color="#3b6ea5")
    for i, r in enumerate(rows[::-1]):
        ax.text(r["rps"], i, f"  {r['rps']:.0f}/s ({r['ratio']:.2f}×)", va="center")
    ax.set_xlabel("requests per second (median of the rounds)")
    ax.set_title("Throughput per path under wrk (2 threads × 16 connections)")
    ax.set_xlim(0, max(r["rps"] for r in rows) * 1.35)
    fig.tight_layout()
    fig.savefig(HERE / "throughput.png", dpi=100)


if __name__ == "__main__":
    main()
