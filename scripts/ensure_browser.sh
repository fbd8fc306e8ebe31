#!/usr/bin/env bash
# The admin's browser test drives Debian's chromium + chromium-driver. Install them when missing
# and we may (root with apt); otherwise say how. In CI the browser test fails without them.
set -uo pipefail
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing chromium and chromium-driver for the browser tests..." >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  [ -x /usr/bin/chromium ] && exit 0
fi
echo "chromium/chromedriver missing: run 'sudo apt-get install chromium chromium-driver'" \
     "(the browser test is skipped outside CI)." >&2
[ "${CI:-}" = "true" ] && exit 1
exit 0
