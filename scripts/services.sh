#!/usr/bin/env bash
# Makes sure the services the tests need answer on 127.0.0.1: Redis (6379) and PostgreSQL
# (5432) with a `cti` role. Starts them when installed but stopped; installs them with apt
# when missing (a fresh Debian machine with root). Idempotent: quick when all is up.
set -euo pipefail

REDIS_PORT=${REDIS_PORT:-6379}
PG_PORT=${PG_PORT:-5432}
APT_UPDATED=0

say() { printf 'services: %s\n' "$*"; }

apt_install() {
  if [ "$(id -u)" != 0 ]; then
    say "need root to install $* (or install it yourself)"; exit 1
  fi
  if [ "$APT_UPDATED" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq; APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

wait_for() {  # wait_for DESCRIPTION COMMAND...
  local what=$1; shift
  for _ in $(seq 1 60); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  say "$what did not come up"; exit 1
}

redis_up() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; }

ensure_redis() {
  if command -v redis-cli >/dev/null && redis_up; then say "redis answers"; return; fi
  command -v redis-server >/dev/null || { say "installing redis-server"; apt_install redis-server; }
  say "starting redis-server on 127.0.0.1:$REDIS_PORT"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" \
    --appendonly no --dir /var/lib/redis --logfile /var/log/redis/cti-test.log
  wait_for "redis" redis_up
}

pg_up() { pg_isready -q -h 127.0.0.1 -p "$PG_PORT"; }

as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

ensure_postgres() {
  if ! { command -v pg_isready >/dev/null && pg_up; }; then
    command -v pg_ctlcluster >/dev/null || { say "installing postgresql"; apt_install postgresql; }
    local version
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    say "starting PostgreSQL $version"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    wait_for "postgresql" pg_up
  else
    say "postgresql answers"
  fi
  # A login role for the tests; a fresh cluster only has `postgres` with peer auth.
  if ! PGPASSWORD=cti psql -h 127.0.0.1 -p "$PG_PORT" -U cti -d postgres -tAc 'select 1' >/dev/null 2>&1; then
    say "creating role cti"
    as_postgres psql -p "$PG_PORT" -d postgres -v ON_ERROR_STOP=1 -qc \
      "DO \$\$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname='cti') THEN CREATE ROLE cti LOGIN SUPERUSER PASSWORD 'cti'; ELSE ALTER ROLE cti LOGIN SUPERUSER PASSWORD 'cti'; END IF; END\$\$;"
  fi
  if ! PGPASSWORD=cti psql -h 127.0.0.1 -p "$PG_PORT" -U cti -d postgres -tAc "select 1 from pg_database where datname='cti'" | grep -q 1; then
    PGPASSWORD=cti createdb -h 127.0.0.1 -p "$PG_PORT" -U cti cti
  fi
}

ensure_chromium() {
  if [ -x /usr/bin/chromium ]; then say "chromium present"; return; fi
  say "installing chromium"; apt_install chromium
}

# The panel's pure JS modules are tested with Node's own runner (`node --test tests/js/`).
ensure_nodejs() {
  if command -v node >/dev/null 2>&1; then say "node present"; return; fi
  say "installing nodejs"; apt_install nodejs
}

for service in "${@:-redis postgres}"; do
  for name in $service; do
    case "$name" in
      redis) ensure_redis ;;
      postgres) ensure_postgres ;;
      chromium) ensure_chromium ;;
      nodejs) ensure_nodejs ;;
      *) say "unknown service $name"; exit 2 ;;
    esac
  done
done
