#!/usr/bin/env bash
# `make run`: a standalone pgrt node on a local data directory (.pgrt/ by default).
# The superuser password is generated once and kept in .pgrt/password (mode 0600).
# Ctrl-C stops the node cleanly. Any POSTGRES_*/PGRT_* variable you export is honoured.
set -euo pipefail
cd "$(dirname "$0")/.."
root="${PGRT_LOCAL_DIR:-$PWD/.pgrt}"
mkdir -p "$root"
chmod 0755 "$root"  # postgres (another account when run as root) must reach PGDATA inside

if [ ! -s "$root/password" ]; then
  (umask 077; head -c 24 /dev/urandom | base64 | tr -d '/+=\n' > "$root/password")
fi

if [ "$(id -u)" -eq 0 ] && command -v runuser >/dev/null && ! runuser -u postgres -- test -x "$root"; then
  echo "make run: the postgres account cannot reach $root (a parent directory is private)." >&2
  echo "          Set PGRT_LOCAL_DIR to a directory it can reach, e.g. PGRT_LOCAL_DIR=/tmp/pgrt." >&2
  exit 2
fi

export POSTGRES_USER="${POSTGRES_USER:-postgres}"
export POSTGRES_DB="${POSTGRES_DB:-postgres}"
export POSTGRES_PASSWORD_FILE="$root/password"
export PGDATA="${PGDATA:-$root/data}"
export PGRT_SOCKET_DIR="${PGRT_SOCKET_DIR:-$root/run}"
export POSTGRES_PORT="${POSTGRES_PORT:-5432}"
export POSTGRES_LISTEN_ADDRESSES="${POSTGRES_LISTEN_ADDRESSES:-127.0.0.1}"
export PGRT_API_ADDRESS="${PGRT_API_ADDRESS:-127.0.0.1}"
export PGRT_API_PORT="${PGRT_API_PORT:-3000}"
export POSTGRES_INITDB_SCRIPTS="${POSTGRES_INITDB_SCRIPTS:-$root/initdb.d}"

cat <<MSG
pgrt: starting a standalone node (data: $PGDATA)
  connect:  psql "postgresql://$POSTGRES_USER@127.0.0.1:$POSTGRES_PORT/$POSTGRES_DB"
            password: in $root/password   (PGPASSWORD=\$(cat $root/password))
  API:      http://$PGRT_API_ADDRESS:$PGRT_API_PORT/__opr/status
  stop:     Ctrl-C
MSG
unset PGRT_LOCAL_DIR  # this script's own setting, not one of pgrt's
exec build/pgrt run "$@"
