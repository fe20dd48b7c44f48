#!/usr/bin/env bash
# Makes sure Debian's Chromium is installed for the browser test (tests/jupyter/test_browser.py), which
# drives it with Playwright (no browser is downloaded). Installs it with apt when it is missing and this
# runs as root; otherwise says what to run. Prints the browser's path.
set -euo pipefail
browser="${KALEIDO_CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$browser" ]; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
        echo "browser-env: installing Debian's chromium (once)" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >&2
        apt-get install -y -qq chromium >&2
    else
        echo "browser-env: $browser is missing; install it with: sudo apt-get install chromium" >&2
        exit 1
    fi
fi
echo "$browser"
