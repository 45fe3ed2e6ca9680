#!/usr/bin/env bash
# Install what tests/test_browser.py needs from Debian: chromium (+ chromium-driver).
# Idempotent: does nothing when `chromium` is already on PATH. Never downloads a browser build
# of its own (no `playwright install`): Playwright drives Debian's Chromium through
# `executable_path`. The Python side (playwright, jupyterlab) is the `browser` extra of
# pyproject.toml, installed by `make venv`.
#
# Usage: bash scripts/install_browser.sh        (as root, or with sudo available)
set -euo pipefail

if command -v chromium >/dev/null 2>&1; then
    echo "install_browser: chromium already installed: $(command -v chromium)"
    exit 0
fi

SUDO=""
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "install_browser: chromium is missing and we are not root (no sudo): install" \
             "Debian's chromium and chromium-driver by hand" >&2
        exit 1
    fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install_browser: chromium is missing and apt-get is not available: install" \
         "Chromium by hand (the browser test needs \`chromium\` on PATH)" >&2
    exit 1
fi

echo "install_browser: installing Debian's chromium and chromium-driver with apt-get"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq chromium chromium-driver

if ! command -v chromium >/dev/null 2>&1; then
    echo "install_browser: apt-get finished but \`chromium\` is still not on PATH" >&2
    exit 1
fi
echo "install_browser: $(chromium --version 2>/dev/null | tail -n 1)"
