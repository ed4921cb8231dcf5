#!/usr/bin/env bash
# Installs what `npm run bench` starts besides Node: the brokers the test harness uses
# (scripts/install-brokers.sh) and redis-server for BullMQ, from the OS packages. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-brokers.sh

if command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ]; then
  echo "install-bench-deps: redis-server is already installed"
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then as_root=(); elif command -v sudo >/dev/null 2>&1; then as_root=(sudo); else
  echo "install-bench-deps: need root or sudo to install redis-server (BullMQ is skipped without it)" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-bench-deps: apt-get not found; install redis-server with your package manager" >&2
  exit 1
fi
echo "install-bench-deps: installing redis-server"
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
# The package's own service is not wanted: the bench starts redis-server on a free port in a temp dir.
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends redis-server
echo "install-bench-deps: done"
