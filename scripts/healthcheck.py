#!/usr/bin/env python3
"""The image's HEALTHCHECK: GET /api/v1/health on this container's gunicorn; exit 0 if it
answers 200 {"status": "ok"}, else 1. Standard library only (no curl in the slim image).

It sends the first ALLOWED_HOSTS name as Host (Django refuses others with 400) and
`X-Forwarded-Proto: https` (with APP_ENV=prod plain HTTP is redirected), as the load balancer
in front of the container would.
"""

import json
import os
import sys
import urllib.request


def main() -> int:
    port = os.environ.get("PORT", "8000")
    hosts = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "").split(",") if h.strip()]
    host = hosts[0].lstrip(".") if hosts else "localhost"
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/health",
        headers={"Host": host, "X-Forwarded-Proto": "https", "Accept": "application/json"},
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=float(os.environ.get("HEALTHCHECK_TIMEOUT", "4"))) as r:
            healthy = r.status == 200 and json.load(r).get("status") == "ok"
    except (OSError, ValueError) as exc:
        print(f"unhealthy: {exc}", file=sys.stderr)
        return 1
    if not healthy:
        print("unhealthy: /api/v1/health did not answer ok", file=sys.stderr)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
