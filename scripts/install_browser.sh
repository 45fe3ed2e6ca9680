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

source "$(dirname "${BASH_SOURCE[0]}")/apt_install.sh"
apt_install install_browser "Debian's chromium and chromium-driver (the browser test needs \`chromium\` on PATH)" \
    chromium chromium-driver

if ! command -v chromium >/dev/null 2>&1; then
    echo "install_browser: apt-get finished but \`chromium\` is still not on PATH" >&2
    exit 1
fi
echo "install_browser: $(chromium --version 2>/dev/null | tail -n 1)"
