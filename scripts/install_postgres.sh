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

SUDO=""
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "install_postgres: the PostgreSQL server is missing and we are not root (no sudo):" \
             "install Debian's postgresql package by hand" >&2
        exit 1
    fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install_postgres: the PostgreSQL server is missing and apt-get is not available:" \
         "install PostgreSQL by hand (the tests need \`initdb\` and \`pg_ctl\`)" >&2
    exit 1
fi

echo "install_postgres: installing Debian's postgresql with apt-get"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq postgresql

if ! found="$(find_initdb)" || [ -z "$found" ]; then
    echo "install_postgres: apt-get finished but no initdb was found" >&2
    exit 1
fi
echo "install_postgres: $("$found" --version)"
