#!/usr/bin/env bash
# `make lock`: regenerate the hash-pinned lock files from the human-edited requirements*.txt.
# Every transitive dependency is pinned with its hashes, so `pip install --require-hashes`
# (make install, the Dockerfile) installs exactly these files or nothing. Edit requirements*.txt,
# run `make lock`, commit both. The first line records a digest of the inputs (check_lock.py).
set -euo pipefail
cd "$(dirname "$0")/.."
py="${PYTHON:-.venv/bin/python}"
export CUSTOM_COMPILE_COMMAND="make lock"

compile() {
  local output="$1"; shift
  local source="${*: -1}"
  "$py" -m piptools compile --quiet --generate-hashes --allow-unsafe --strip-extras \
    --no-emit-index-url --no-emit-find-links --no-emit-trusted-host \
    --output-file "$output" "$source"
  local body
  body="$(grep -v '^# inputs-sha256: ' "$output")"
  { echo "# inputs-sha256: $("$py" scripts/check_lock.py --digest "$@")"; echo "$body"; } > "$output"
}

compile requirements.lock requirements.txt
compile requirements-dev.lock requirements.txt requirements-dev.txt
"$py" scripts/check_lock.py
echo "requirements.lock and requirements-dev.lock are up to date."
