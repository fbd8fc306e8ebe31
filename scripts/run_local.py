#!/usr/bin/env python
"""`make run`: a complete local world on 127.0.0.1 with no accounts anywhere.

- SQLite by default (DATABASE_URL unset), migrated by the Makefile.
- Without STRIPE_SECRET_KEY: starts localstripe (a Stripe-compatible server) on loopback,
  points STRIPE_API_BASE at it and registers this server's webhook URL and secret with it, so a
  PaymentIntent confirmed there produces a real signed webhook to us. Then `manage.py
  stripe_setup` creates the subscription product and plans there, so organizer subscriptions
  go through Stripe Billing (SUBSCRIPTION_PROVIDER=stripe) and the demo's subscribed
  organizers are Stripe-backed.
- Allows CORS from the usual local frontend origins (localhost/127.0.0.1 on 3000, 5173 and
  8080) unless CORS_ORIGINS is set.
- Seeds the demo world (`manage.py seed_demo`) and prints the demo logins.
- Runs the work outside requests: with REDIS_URL, a Celery worker and beat; without it, tasks
  run in process and `manage.py run_periodic --loop` runs the periodic jobs. Emails print to
  the console unless EMAIL_URL is set.
- Runs Django's development server until Ctrl-C, then stops everything it started.
"""

import argparse
import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def manage(*args: str, env: dict) -> int:
    return subprocess.call([sys.executable, "manage.py", *args], cwd=ROOT, env=env)


# The usual local frontend dev servers (Next/CRA, Vite, webpack/Vue), on localhost and 127.0.0.1.
LOCAL_FRONTEND_ORIGINS = [
    f"http://{host}:{port}" for port in (3000, 5173, 8080) for host in ("localhost", "127.0.0.1")
]


def local_env(environ) -> dict:
    """The environment `make run` gives the server: the caller's, plus local defaults (DEBUG on,
    APP_ENV local, CORS for the usual local frontend origins unless CORS_ORIGINS is set)."""
    env = dict(environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "strathwell.settings")
    env.setdefault("DEBUG", "true")
    env.setdefault("APP_ENV", "local")
    if not env.get("CORS_ORIGINS"):
        env["CORS_ORIGINS"] = ",".join(LOCAL_FRONTEND_ORIGINS)
    return env


def stripe_setup(env: dict) -> dict:
    """Run `manage.py stripe_setup` (idempotent) and return the `NAME=value` settings it
    prints, for the server's environment."""
    result = subprocess.run(
        [sys.executable, "manage.py", "stripe_setup"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    sys.stdout.write(result.stdout)
    if result.returncode != 0:
        sys.stderr.write(result.stderr)
        raise SystemExit(f"manage.py stripe_setup failed (exit {result.returncode}).")
    return dict(
        line.split("=", 1) for line in result.stdout.splitlines() if line.startswith("STRIPE_")
    )


def start_background(env: dict) -> list[subprocess.Popen]:
    """The worker side: Celery worker + beat with a broker, else the in-process scheduler."""
    if env.get("REDIS_URL"):
        celery = str(Path(sys.executable).parent / "celery")
        (ROOT / "var").mkdir(exist_ok=True)
        # One task at a time on the SQLite file of a default local run.
        concurrency = [] if env.get("DATABASE_URL") else ["--concurrency=1"]
        commands = [
            [celery, "-A", "strathwell", "worker", "--loglevel=INFO", *concurrency],
            [celery, "-A", "strathwell", "beat", "--loglevel=INFO",
             "--schedule=var/celerybeat-schedule"],
        ]  # fmt: skip
        print(f"Celery worker and beat on {env['REDIS_URL']}")
    else:
        commands = [[sys.executable, "manage.py", "run_periodic", "--loop"]]
        print("REDIS_URL unset: tasks run in process; periodic jobs by `run_periodic --loop`")
    return [subprocess.Popen(command, cwd=ROOT, env=env) for command in commands]


def stop_background(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", default="8000")
    args = parser.parse_args()
    # SIGTERM (e.g. from a process manager) unwinds like Ctrl-C, so localstripe is stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

    env = local_env(os.environ)
    stripe_server = None
    if not env.get("STRIPE_SECRET_KEY"):
        from strathwell.testing.servers import register_localstripe_webhook, start_localstripe

        stripe_server = start_localstripe()
        env["STRIPE_API_BASE"] = stripe_server.url
        env["STRIPE_SECRET_KEY"] = "sk_test_local_" + secrets.token_hex(8)
        env["STRIPE_WEBHOOK_SECRET"] = "whsec_local_" + secrets.token_hex(16)
        webhook_url = f"http://{args.host}:{args.port}/api/v1/webhooks/stripe"
        register_localstripe_webhook(stripe_server, webhook_url, env["STRIPE_WEBHOOK_SECRET"])
        print(f"localstripe on {stripe_server.url}; webhooks go to {webhook_url}")

    background: list[subprocess.Popen] = []
    try:
        if stripe_server and env.get("SUBSCRIPTION_PROVIDER", "stripe") == "stripe":
            env.update(stripe_setup(env))  # the subscription product and plans, once
        # Only this command gets the demo flag: it is refused without it (the demo admin's
        # password is published), and the server itself keeps POST /ops/seed-demo off.
        manage("seed_demo", env={**env, "ENABLE_DEMO_OPS": "true"})
        background = start_background(env)
        print(
            f"\nStrathwell API on http://{args.host}:{args.port}/api/v1/  "
            f"(docs: /api/docs/, admin: /admin/)"
        )
        if stripe_server:
            print(
                f"STRIPE_API_BASE={stripe_server.url} STRIPE_SECRET_KEY={env['STRIPE_SECRET_KEY']}"
            )
        return manage("runserver", f"{args.host}:{args.port}", "--noreload", env=env)
    except KeyboardInterrupt:
        return 0
    finally:
        stop_background(background)
        if stripe_server:
            stripe_server.stop()


if __name__ == "__main__":
    sys.exit(main())
