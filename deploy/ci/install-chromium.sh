#!/usr/bin/env bash
# Installs Debian's chromium for the browser tests (cmd/vigie/browser_test.go)
# when it is not there yet. Idempotent: a second run does nothing.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
	exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
	echo "install-chromium: /usr/bin/chromium is missing and apt-get is not available; install Chromium by hand" >&2
	exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	if ! command -v sudo >/dev/null 2>&1; then
		echo "install-chromium: need root (or sudo) to install chromium" >&2
		exit 1
	fi
	SUDO="sudo"
fi
echo "install-chromium: installing Debian's chromium package" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends chromium
/usr/bin/chromium --version
