#!/usr/bin/env python
"""`make run`: a complete local world on 127.0.0.1 with no accounts anywhere.

- SQLite by default (DATABASE_URL unset), migrated by the Makefile.
- Without STRIPE_SECRET_KEY: starts localstripe (a Stripe-compatible server) on loopback,
  points STRIPE_API_BASE at it and registers this server's webhook URL and secret with it, so a
  PaymentIntent confirmed there produces a real signed webhook to us.
- Allows CORS from the usual local frontend origins (localhost/127.0.0.1 on 3000, 5173 and
  8080) unless CORS_ORIGINS is set.
- Seeds the demo world (`manage.py seed_demo`) and prints the demo logins.
- Runs Django's development server until Ctrl-C, then stops localstripe.
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

    try:
        manage("seed_demo", env=env)
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
        if stripe_server:
            stripe_server.stop()


if __name__ == "__main__":
    sys.exit(main())
