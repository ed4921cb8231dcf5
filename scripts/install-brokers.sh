#!/usr/bin/env bash
# Installs the broker binaries the test harness starts when no broker URL is set and no Docker
# engine answers: Debian's nats-server and rabbitmq-server; promtool (Debian's prometheus package),
# which lints /metrics and tests the alert rules in docs/; and Debian's chromium, which the
# dashboard's browser tests drive. Idempotent: installs only what is missing.
set -euo pipefail

need=()
command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ] || need+=(nats-server)
[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || need+=(rabbitmq-server)
command -v promtool >/dev/null 2>&1 || [ -x /usr/bin/promtool ] || need+=(prometheus)
[ -x /usr/bin/chromium ] || need+=(chromium)

if [ ${#need[@]} -eq 0 ]; then
  echo "install-brokers: nats-server, rabbitmq-server, promtool and chromium are already installed"
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "install-brokers: need root or sudo to install ${need[*]}; or set KANBAN_TEST_NATS_URL / KANBAN_TEST_RABBITMQ_URL" >&2
  exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-brokers: apt-get not found; install ${need[*]} with your package manager, or run docker compose -f docker-compose.test.yml up -d" >&2
  exit 1
fi

echo "install-brokers: installing ${need[*]}"
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
# The packages' own service start is not wanted (the harness starts brokers on free ports); on
# machines without systemd it is refused by policy-rc.d anyway, which apt reports without failing.
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}"
echo "install-brokers: done"
