#!/usr/bin/env bash
# Install what tests/test_parallel_autograde.py (and benchmarks/bench_autograde.py) need from
# Debian: the PostgreSQL server (initdb, pg_ctl). The tests start their own throwaway server on a
# loopback port; nothing is configured or started here, and Debian's default cluster is not used.
# Idempotent: does nothing when `initdb` of some PostgreSQL version is already installed (Debian
# keeps it off PATH, under /usr/lib/postgresql/<version>/bin). The Python side (psycopg2-binary,
# dask[distributed]) comes with `make venv`.
#
# Usage: bash scripts/install_postgres.sh        (as root, or with sudo available)
set -euo pipefail

find_initdb() {
    command -v initdb 2>/dev/null || ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1
}

if found="$(find_initdb)" && [ -n "$found" ]; then
    echo "install_postgres: PostgreSQL server already installed: $found"
    exit 0
fi

source "$(dirname "${BASH_SOURCE[0]}")/apt_install.sh"
apt_install install_postgres "Debian's postgresql (the tests need \`initdb\` and \`pg_ctl\`)" postgresql

if ! found="$(find_initdb)" || [ -z "$found" ]; then
    echo "install_postgres: apt-get finished but no initdb was found" >&2
    exit 1
fi
echo "install_postgres: $("$found" --version)"
