#!/usr/bin/env bash
# Makes sure the three services recflow needs answer on 127.0.0.1:
#   PostgreSQL on 5432, Redis on 6379, NATS with JetStream on 4222.
# A service that is down is started with the command from
# shared/guide/TOOLCHAIN.md; then the script waits until every service answers.
# Running it again when all is up changes nothing (idempotent).
#
# Usage: scripts/services.sh [--check]
#   --check  only report; start nothing. Exits 1 if any service is down.
#
# Environment:
#   SERVICES_WAIT_SECONDS  how long to wait for each service after starting
#                          it (whole seconds, default 30). Exceeding it fails
#                          with a message naming the service.
#
# Needs no standard input and no `nc`; works as root in CI. Exit codes:
# 0 all services answer, 1 a service is down or did not come up, 2 bad usage.
set -euo pipefail

readonly HOST=127.0.0.1
readonly PG_PORT=5432
readonly REDIS_PORT=6379
readonly NATS_PORT=4222

main() {
  local check_only=false
  case "${1:-}" in
    '') ;;
    --check) check_only=true ;;
    -h | --help)
      sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
      return 0
      ;;
    *)
      echo "services.sh: unknown argument '$1' (try --help)" >&2
      return 2
      ;;
  esac

  local wait_seconds="${SERVICES_WAIT_SECONDS:-30}"
  if ! [[ "$wait_seconds" =~ ^[0-9]+$ ]] || ((wait_seconds < 1 || wait_seconds > 600)); then
    echo "services.sh: SERVICES_WAIT_SECONDS must be a whole number from 1 to 600," \
      "got '$wait_seconds'" >&2
    return 2
  fi

  local failed=0 service
  for service in postgresql redis nats; do
    ensure "$service" "$check_only" "$wait_seconds" || failed=1
  done
  if ((failed)); then
    echo "services.sh: not all services are available" >&2
    return 1
  fi
  echo "services.sh: PostgreSQL, Redis and NATS (JetStream) answer on $HOST"
}

# ensure SERVICE CHECK_ONLY WAIT_SECONDS: succeeds once SERVICE answers.
ensure() {
  local service="$1" check_only="$2" wait_seconds="$3"

  # Already up: nothing to do.
  if "${service}_answers"; then
    echo "services.sh: $(label "$service") is up"
    return 0
  fi
  if [[ "$check_only" == true ]]; then
    echo "services.sh: $(label "$service") is DOWN" >&2
    return 1
  fi

  # Down: start it. A failing start command is reported, but the wait below
  # still decides, since another process may have started the service meanwhile.
  echo "services.sh: $(label "$service") is down; starting it"
  if ! "start_${service}" </dev/null; then
    echo "services.sh: the start command for $(label "$service") failed" >&2
  fi

  # Wait, bounded, until it answers.
  local deadline=$((SECONDS + wait_seconds))
  while ((SECONDS < deadline)); do
    if "${service}_answers"; then
      echo "services.sh: $(label "$service") is up"
      return 0
    fi
    sleep 1
  done
  echo "services.sh: $(label "$service") did not answer within ${wait_seconds}s;" \
    "$(hint "$service")" >&2
  return 1
}

label() {
  case "$1" in
    postgresql) echo "PostgreSQL ($HOST:$PG_PORT)" ;;
    redis) echo "Redis ($HOST:$REDIS_PORT)" ;;
    nats) echo "NATS with JetStream ($HOST:$NATS_PORT)" ;;
  esac
}

hint() {
  case "$1" in
    postgresql) echo "see /var/log/postgresql/ for its log" ;;
    redis) echo "see /var/log/redis/ci.log" ;;
    nats)
      echo "see /var/log/nats-server.log (a server running without -js" \
        "answers but has no JetStream; restart it with -js)"
      ;;
  esac
}

# --- Checks: each succeeds only when the service answers a real request. ---

postgresql_answers() {
  pg_isready -q -h "$HOST" -p "$PG_PORT" -t 2 </dev/null >/dev/null 2>&1
}

redis_answers() {
  local reply
  reply="$(timeout 3 redis-cli -h "$HOST" -p "$REDIS_PORT" ping </dev/null 2>/dev/null)" ||
    return 1
  [[ "$reply" == PONG ]]
}

# A NATS server greets every client with an INFO line; with JetStream enabled
# that line carries "jetstream":true.
nats_answers() {
  local info
  info="$(
    timeout 3 bash -c '
      exec 3<>"/dev/tcp/$0/$1" || exit 1
      IFS= read -r -t 2 line <&3 || exit 1
      printf "%s\n" "$line"
    ' "$HOST" "$NATS_PORT" 2>/dev/null
  )" || return 1
  [[ "$info" == INFO* && "$info" == *'"jetstream":true'* ]]
}

# --- Start commands, exactly as in shared/guide/TOOLCHAIN.md. ---

start_postgresql() {
  # shellcheck disable=SC2046  # one cluster version directory is expected
  pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start
}

start_redis() {
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
}

start_nats() {
  mkdir -p /var/lib/nats-server
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- \
    -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
}

# Run only when executed, so tests can source the file and replace functions.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  main "$@"
fi
