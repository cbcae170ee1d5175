#!/usr/bin/env bash
# Real services for weir's tests: PostgreSQL 15, Redis 7, a Kafka-protocol
# broker (Tansu) and an S3 server (moto), on free loopback ports, with their
# data in a temporary directory.
#
#   tests/services.sh start   install what is missing, start all, wait until each answers
#   tests/services.sh env     print `export NAME=value` lines for the running services
#   tests/services.sh stop    stop them and remove their data
#   tests/services.sh down pg2|redis2   stop the spare PostgreSQL / Redis (outage tests)
#   tests/services.sh up pg2|redis2     start it again on the same port, with its data
#
# pg2 and redis2 are a second PostgreSQL and Redis (Redis with an append-only
# file, so a restart keeps its data) that one test may stop and start
# without disturbing the tests that share the first pair.
# Installs are idempotent and come from package registries only (apt, crates.io,
# PyPI, npm); slow ones are cached under $WEIR_CACHE_DIR (default ~/.cache/weir).
set -euo pipefail

CACHE="${WEIR_CACHE_DIR:-$HOME/.cache/weir}"
STATE="${WEIR_SERVICES_DIR:-${TMPDIR:-/tmp}/weir-services}"
VENV="$CACHE/venv"
TANSU="$CACHE/tansu/bin/tansu"
NODE_MODULES="$CACHE/node/node_modules"
PG_BIN="/usr/lib/postgresql/15/bin"
# weir itself builds with the Rust toolchain alone (README); cmake and the -dev
# packages are here for building Tansu from crates.io.
# unixodbc and odbc-postgresql are the ODBC driver manager and psqlODBC for the client tests;
# tmux gives psql a terminal for its tab completion.
APT_PACKAGES=(postgresql redis-server openssl cmake libcurl4-openssl-dev libssl-dev libsasl2-dev zlib1g-dev libpostgresql-jdbc-java unixodbc odbc-postgresql tmux)

log() { printf '[services] %s\n' "$*" >&2; }
die() { printf '[services] error: %s\n' "$*" >&2; exit 1; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

install() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq || log "apt-get update failed; trying the install anyway"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  [ -x "$PG_BIN/initdb" ] || die "PostgreSQL 15 not found in $PG_BIN (Debian package postgresql)"
  if [ ! -x "$TANSU" ]; then
    log "installing Tansu from crates.io into $CACHE/tansu (a release build: about 10 minutes on 2 cores, once)"
    CARGO_TARGET_DIR="$CACHE/tansu-target" cargo install tansu --locked --features dynostore,postgres --root "$CACHE/tansu" >&2
    rm -rf "$CACHE/tansu-target"
  fi
  if [ ! -x "$VENV/bin/moto_server" ] || ! "$VENV/bin/python" -c 'import psycopg, confluent_kafka, pyarrow, duckdb, sqlalchemy, pandas, asyncpg, pyodbc' 2>/dev/null; then
    log "installing moto[server], psycopg, confluent-kafka, pyarrow, duckdb, SQLAlchemy, pandas, asyncpg and pyodbc from PyPI into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --upgrade 'moto[server]' 'psycopg[binary]' confluent-kafka pyarrow duckdb 'sqlalchemy>=2' pandas asyncpg pyodbc >&2
  fi
  if [ ! -d "$NODE_MODULES/pg-cursor" ]; then
    log "installing node-postgres (pg, pg-cursor) from npm into $CACHE/node"
    mkdir -p "$CACHE/node"
    npm install --prefix "$CACHE/node" --no-audit --no-fund --silent pg@8 pg-cursor@2 >&2
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

wait_for() { # name, tries, command...
  local name=$1 tries=$2; shift 2
  for _ in $(seq "$tries"); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  die "$name did not answer; see the logs in $STATE"
}

# pg_start NAME PORT [init]: a PostgreSQL cluster in $STATE/NAME (as the postgres account when root).
pg_start() {
  local name=$1 port=$2 run_pg=()
  if [ "$(id -u)" = 0 ]; then run_pg=(runuser -u postgres --); chown postgres "$STATE"; fi
  if [ "${3:-}" = init ]; then
    mkdir -p "$STATE/$name"; [ "$(id -u)" = 0 ] && chown postgres "$STATE/$name"
    "${run_pg[@]}" "$PG_BIN/initdb" -D "$STATE/$name/data" -U postgres -A trust >"$STATE/$name/initdb.log" 2>&1 \
      || die "initdb failed: $(tail -3 "$STATE/$name/initdb.log")"
    echo "$port" >"$STATE/$name/port"
  fi
  "${run_pg[@]}" "$PG_BIN/pg_ctl" -D "$STATE/$name/data" -l "$STATE/$name/server.log" -w -t 60 \
    -o "-p $port -k $STATE/$name -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null \
    || die "PostgreSQL did not start: $(tail -5 "$STATE/$name/server.log")"
  wait_for PostgreSQL 60 "$PG_BIN/pg_isready" -h 127.0.0.1 -p "$port"
}

pg_stop() {
  local mode=${2:-immediate}
  [ -d "$STATE/$1/data" ] || return 0
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$STATE/$1/data" -m "$mode" stop >/dev/null 2>&1 || true
  else "$PG_BIN/pg_ctl" -D "$STATE/$1/data" -m "$mode" stop >/dev/null 2>&1 || true; fi
}

# redis_start NAME PORT ARGS...: a Redis server with its files in $STATE/NAME.
redis_start() {
  local name=$1 port=$2; shift 2
  mkdir -p "$STATE/$name"; echo "$port" >"$STATE/$name/port"; echo "$*" >"$STATE/$name/args"
  redis-server --port "$port" --bind 127.0.0.1 --daemonize yes "$@" \
    --dir "$STATE/$name" --pidfile "$STATE/$name/redis.pid" --logfile "$STATE/$name/redis.log"
  wait_for Redis 40 redis-cli -p "$port" ping
}

redis_stop() {
  [ -f "$STATE/$1/redis.pid" ] || return 0
  redis-cli -p "$(cat "$STATE/$1/port")" shutdown >/dev/null 2>&1 || kill "$(cat "$STATE/$1/redis.pid")" 2>/dev/null || true
  local i
  for i in $(seq 50); do kill -0 "$(cat "$STATE/$1/redis.pid" 2>/dev/null)" 2>/dev/null || break; sleep 0.1; done
  rm -f "$STATE/$1/redis.pid"
}

port_open() { python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), 1)" "$1"; }

start() {
  install
  [ -f "$STATE/env.sh" ] && { log "already running (state in $STATE); 'stop' first to restart"; return 0; }
  rm -rf "$STATE"; mkdir -p "$STATE"
  local pg_port redis_port kafka_port s3_port
  pg_port=$(free_port); redis_port=$(free_port); kafka_port=$(free_port); s3_port=$(free_port)

  pg_start pg "$pg_port" init
  log "PostgreSQL on 127.0.0.1:$pg_port"
  redis_start redis "$redis_port" --save "" --appendonly no
  log "Redis on 127.0.0.1:$redis_port"
  local pg2_port redis2_port
  pg2_port=$(free_port); redis2_port=$(free_port)
  pg_start pg2 "$pg2_port" init
  redis_start redis2 "$redis2_port" --appendonly yes --appendfsync always
  log "spare PostgreSQL on 127.0.0.1:$pg2_port and Redis on 127.0.0.1:$redis2_port (for outage tests)"

  mkdir -p "$STATE/kafka"
  nohup "$TANSU" broker --storage-engine memory://tansu/ --listener-url "tcp://127.0.0.1:$kafka_port" \
    --advertised-listener-url "tcp://127.0.0.1:$kafka_port" >"$STATE/kafka/tansu.log" 2>&1 &
  echo $! >"$STATE/kafka/pid"
  wait_for Tansu 60 port_open "$kafka_port"
  log "Tansu (Kafka protocol) on 127.0.0.1:$kafka_port"

  mkdir -p "$STATE/s3"
  nohup "$VENV/bin/moto_server" -H 127.0.0.1 -p "$s3_port" >"$STATE/s3/moto.log" 2>&1 &
  echo $! >"$STATE/s3/pid"
  wait_for moto 60 curl -sf "http://127.0.0.1:$s3_port/"
  log "moto (S3) on 127.0.0.1:$s3_port"

  cat >"$STATE/env.sh" <<ENV
export WEIR_TEST_PG_URL=postgres://postgres@127.0.0.1:$pg_port/postgres
export WEIR_TEST_REDIS_URL=redis://127.0.0.1:$redis_port
export WEIR_TEST_PG2_URL=postgres://postgres@127.0.0.1:$pg2_port/postgres
export WEIR_TEST_REDIS2_URL=redis://127.0.0.1:$redis2_port
export WEIR_TEST_SERVICES="$(cd "$(dirname "$0")" && pwd)/services.sh"
export WEIR_SERVICES_DIR=$STATE
export WEIR_TEST_KAFKA=127.0.0.1:$kafka_port
export WEIR_TEST_S3_ENDPOINT=http://127.0.0.1:$s3_port
export WEIR_TEST_PYTHON=$VENV/bin/python
export WEIR_TEST_JDBC_JAR=/usr/share/java/postgresql.jar
export WEIR_TEST_NODE_PATH=$NODE_MODULES
export WEIR_TEST_ODBC_DRIVER=$(ls /usr/lib/*/odbc/psqlodbcw.so 2>/dev/null | head -1)
ENV
}

stop() {
  [ -d "$STATE" ] || return 0
  [ -f "$STATE/kafka/pid" ] && kill "$(cat "$STATE/kafka/pid")" 2>/dev/null || true
  [ -f "$STATE/s3/pid" ] && kill "$(cat "$STATE/s3/pid")" 2>/dev/null || true
  local r
  for r in redis redis2; do [ -f "$STATE/$r/redis.pid" ] && kill "$(cat "$STATE/$r/redis.pid")" 2>/dev/null || true; done
  pg_stop pg; pg_stop pg2
  rm -rf "$STATE"
  log "stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  env) [ -f "$STATE/env.sh" ] || die "services are not running; run '$0 start'"; cat "$STATE/env.sh" ;;
  install) install ;;
  down)
    case "${2:-}" in
      pg2) pg_stop pg2 fast ;;
      redis2) redis_stop redis2 ;;
      *) die "usage: $0 down pg2|redis2" ;;
    esac
    log "$2 is down" ;;
  up)
    case "${2:-}" in
      pg2) "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$(cat "$STATE/pg2/port")" || pg_start pg2 "$(cat "$STATE/pg2/port")" ;;
      redis2) redis-cli -p "$(cat "$STATE/redis2/port")" ping >/dev/null 2>&1 \
        || { read -r -a args <"$STATE/redis2/args"; redis_start redis2 "$(cat "$STATE/redis2/port")" "${args[@]}"; } ;;
      *) die "usage: $0 up pg2|redis2" ;;
    esac
    log "$2 is up" ;;
  *) echo "usage: $0 start|stop|env|install|down|up" >&2; exit 2 ;;
esac
