#!/usr/bin/env bash
# Build the production image if this machine can: a running Docker engine and the base image
# already present (registries other than PyPI/Debian may be out of reach). Otherwise say so:
# strathwell/tests/test_image.py checks the Dockerfile's essentials and runs what it runs.
set -euo pipefail
cd "$(dirname "$0")/.."
base=$(awk 'toupper($1) == "FROM" {print $2; exit}' Dockerfile)
if ! docker info >/dev/null 2>&1; then
  echo "image: no Docker engine here; skipped (strathwell/tests/test_image.py checks the Dockerfile)"
  exit 0
fi
if ! docker image inspect "$base" >/dev/null 2>&1; then
  echo "image: base image $base is not present locally; skipped (no registry but PyPI here)"
  exit 0
fi
docker build -t strathwell:ci .
echo "image: built strathwell:ci"
