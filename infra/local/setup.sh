#!/usr/bin/env bash
# Install and start everything Jedel needs on a Debian machine, without Docker. Safe to run again.
#   Python deps (from uv.lock); PostgreSQL 15 + PostGIS 3 with the project's own role and a generated
#   password; Redis; Java 17 and Maven check, Apache Kafka resolved from Maven Central (the broker
#   itself is started by infra/local/broker.sh); Debian's kcat.
# Generated credentials live in .run/ (never committed): .run/jedel.env (read by every `jedel`
# command and the tests) and .run/kafka/credentials.json (the broker's principals).
# usage: infra/local/setup.sh [DATABASE ...]   (default databases: jedel)
set -euo pipefail
cd "$(dirname "$0")/../.."

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then as_root apt-get update -qq; apt_updated=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

PG_VERSION="${PG_VERSION:-15}"
PGHOST="${PGHOST:-127.0.0.1}"
PGPORT="${PGPORT:-5432}"
DB_ROLE="${JEDEL_DB_ROLE:-jedel}"
ENV_FILE=.run/jedel.env
mkdir -p .run

# --- Python -----------------------------------------------------------------------------------
if command -v uv >/dev/null 2>&1; then uv=(uv); else
  if ! python3 -m uv --version >/dev/null 2>&1; then
    say "installing uv"
    python3 -m pip install --quiet --disable-pip-version-check "uv>=0.5" 2>&1 | grep -v WARNING || true
  fi
  uv=(python3 -m uv)
fi
say "installing Python dependencies from uv.lock"
"${uv[@]}" sync --frozen --quiet

# --- PostgreSQL + PostGIS ---------------------------------------------------------------------
# The project's role signs in with a password over TCP (Debian asks for one on 127.0.0.1); the
# set-up itself talks to the cluster as the postgres OS user over the local socket (peer).
if ! command -v pg_lsclusters >/dev/null 2>&1; then
  say "installing PostgreSQL $PG_VERSION"
  apt_install "postgresql-$PG_VERSION"
fi
# PostgreSQL's own cache sized as in the deployment (docker-compose.yml): matching reads the
# certificate-location indexes and the volunteers they point at, ~0.7 GB for a million volunteers.
# With Debian's 128 MB a fifth of those page reads went to the kernel, and a wave's candidate query
# cost ~13 ms of the server's CPU instead of ~9.5.
PG_CONF="/etc/postgresql/$PG_VERSION/main/conf.d/jedel.conf"
pg_conf=$'# Written by infra/local/setup.sh: the same cache as docker-compose.yml\'s postgis service.\nshared_buffers = 1GB\neffective_cache_size = 3GB'
pg_restart=""
if [ "$(cat "$PG_CONF" 2>/dev/null)" != "$pg_conf" ]; then
  say "sizing PostgreSQL's cache ($PG_CONF)"
  printf '%s\n' "$pg_conf" | as_root tee "$PG_CONF" >/dev/null
  pg_restart=1
fi
if [ -n "$pg_restart" ] && pg_isready -q -h "$PGHOST" -p "$PGPORT"; then
  say "restarting PostgreSQL (its cache size changed)"
  as_root pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" main restart
fi
if ! pg_isready -q -h "$PGHOST" -p "$PGPORT"; then
  say "starting PostgreSQL"
  as_root pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" main start || true
  for _ in $(seq 1 50); do pg_isready -q -h "$PGHOST" -p "$PGPORT" && break; sleep 0.2; done
  pg_isready -h "$PGHOST" -p "$PGPORT" >/dev/null || { echo "PostgreSQL did not start" >&2; exit 1; }
fi
if [ ! -f "/usr/share/postgresql/$PG_VERSION/extension/postgis.control" ]; then
  say "installing PostGIS (postgresql-$PG_VERSION-postgis-3)"
  apt_install "postgresql-$PG_VERSION-postgis-3"
fi
as_postgres() {
  if [ "$(id -un)" = postgres ]; then "$@"; elif [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"
  else sudo -u postgres "$@"; fi
}
psql_admin() { as_postgres psql -X -q -v ON_ERROR_STOP=1 -p "$PGPORT" "$@"; }

db_password=""
if [ -f "$ENV_FILE" ]; then
  db_password=$(sed -n "s|^JEDEL_DATABASE__URL=postgresql+asyncpg://$DB_ROLE:\([^@]*\)@.*|\1|p" "$ENV_FILE")
fi
[ -n "$db_password" ] || db_password=$(python3 -c 'import secrets; print(secrets.token_hex(20))')
psql_admin -d postgres -v role="$DB_ROLE" -v password="$db_password" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'role')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') \gexec
ALTER ROLE :"role" LOGIN PASSWORD :'password';
SQL
databases=("$@")
[ ${#databases[@]} -gt 0 ] || databases=(jedel)
for db in "${databases[@]}"; do
  if [ "${JEDEL_SETUP_FRESH_DATABASES:-0}" = 1 ]; then  # the fault suite starts from nothing
    psql_admin -d postgres -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)"
  fi
  if ! psql_admin -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
    say "creating database $db"
    psql_admin -d postgres -c "CREATE DATABASE \"$db\" OWNER \"$DB_ROLE\""
  fi
  psql_admin -d "$db" -c "ALTER DATABASE \"$db\" OWNER TO \"$DB_ROLE\"" \
    -c "CREATE EXTENSION IF NOT EXISTS postgis" 2>&1 | grep -v NOTICE || true
done
umask_before=$(umask); umask 077
{
  echo "# Written by infra/local/setup.sh: this machine's generated credentials. Never commit."
  # No TLS to the server on this machine: on loopback it protects nothing, and Debian's server
  # offers it, so drivers would take it (a sixth of the mobilizer's CPU under a burst went to
  # encrypting its own queries). A deployment's URL says what its network needs.
  echo "JEDEL_DATABASE__URL=postgresql+asyncpg://$DB_ROLE:$db_password@$PGHOST:$PGPORT/jedel?ssl=disable"
} >"$ENV_FILE"
umask "$umask_before"

# --- Redis ------------------------------------------------------------------------------------
if ! (redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG); then
  if ! command -v redis-server >/dev/null 2>&1; then
    say "installing Redis"
    apt_install redis-server
  fi
  say "starting Redis"
  mkdir -p .run
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir "$PWD/.run" --logfile "$PWD/.run/redis.log"
  for _ in $(seq 1 50); do redis-cli ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
fi

# --- Apache Kafka: Java 17 and Maven, the broker resolved from Maven Central, Debian's kcat ------
if ! command -v java >/dev/null 2>&1; then
  say "installing Java 17 (openjdk-17-jre-headless)"
  apt_install openjdk-17-jre-headless
fi
if ! command -v mvn >/dev/null 2>&1; then
  say "installing Maven"
  apt_install maven
fi
if ! command -v kcat >/dev/null 2>&1; then
  say "installing kcat (a third-party Kafka client: tests publish alerts with it)"
  apt_install kcat
fi
infra/local/broker.sh classpath >/dev/null

# --- Compose checker (tests validate docker-compose.yml statically; no Docker engine here) -----
if [ "${JEDEL_SETUP_COMPOSE:-0}" = 1 ] && ! docker compose version >/dev/null 2>&1 \
    && ! command -v docker-compose >/dev/null 2>&1; then
  say "installing docker-compose (to check docker-compose.yml)"
  apt_install docker-compose
fi

# --- A real browser for the pages volunteers open (tests drive Debian's Chromium) ---------------
if [ "${JEDEL_SETUP_BROWSER:-0}" = 1 ] && [ ! -x /usr/bin/chromium ]; then
  say "installing chromium (the tests open the volunteers' answer page in it)"
  apt_install chromium
fi

say "ready: PostgreSQL+PostGIS on $PGHOST:$PGPORT (role $DB_ROLE, password in $ENV_FILE), Redis on 127.0.0.1:6379, Apache Kafka resolved (start it with infra/local/broker.sh start)"
