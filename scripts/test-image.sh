#!/usr/bin/env bash
# `make test-image`: builds the image (scripts/build-image.sh), then proves it with real
# containers on the host network, on free loopback ports:
#   1. the image: pgrt, postgres, pgBackRest, PgBouncer present; no compiler or headers
#   2. start to healthy, container vs the same pgrt on the host (the image's binary, copied
#      out), first start (initdb) and restart, medians of PGRT_TEST_IMAGE_RUNS runs; ratios
#   3. the Kubernetes manifests' setup: uid 999, read-only root, emptyDir-like /run and /tmp
#   4. a primary and a replica (secrets as *_FILE, mounted files): write on the primary,
#      read on the replica, `pgrt healthcheck` and the image's HEALTHCHECK inside, every
#      postgres process runs as postgres
#   5. `podman stop` (the image's STOPSIGNAL): exit code 0, and the next start finds a clean
#      shutdown (no crash recovery), with the data there, on new containers with the same
#      volumes
# Everything is bounded in time; it removes exactly the containers and volumes it created.
set -euo pipefail
cd "$(dirname "$0")/.."

runs="${PGRT_TEST_IMAGE_RUNS:-3}"
build_timeout="${PGRT_IMAGE_BUILD_TIMEOUT:-3600}"
test_timeout="${PGRT_TEST_IMAGE_TIMEOUT:-900}"

fail() { echo "test-image: FAIL: $*" >&2; exit 1; }
say() { echo "test-image: $*"; }
passed=0
ok() { passed=$((passed + 1)); echo "test-image: ok: $*"; }

# PGRT_TEST_IMAGE_BUILD=0 tests $PGRT_IMAGE as it is (e.g. one built by `make image` before).
if [ "${PGRT_TEST_IMAGE_BUILD:-1}" != 0 ]; then
  timeout "$build_timeout" scripts/build-image.sh ||
    fail "image build failed or took over ${build_timeout}s"
fi
eval "$(scripts/build-image.sh --print-env)"
engine="$PGRT_ENGINE"
image="$PGRT_IMAGE"

# --- bookkeeping: what this run created, removed by id at exit --------------------------------

tag="pgrt-test-$$"
scratch=$(mktemp -d "/tmp/$tag.XXXXXX")
chmod 0755 "$scratch"  # postgres (when pgrt drops to it on the host) must reach PGDATA inside
containers=()
volumes=()
host_pid=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  [ -n "${watchdog:-}" ] && kill "$watchdog" 2>/dev/null
  if [ -n "$host_pid" ] && kill -0 "$host_pid" 2>/dev/null; then
    kill -INT "$host_pid" 2>/dev/null
    timeout 20 tail --pid="$host_pid" -f /dev/null || kill -KILL "$host_pid" 2>/dev/null
  fi
  if [ "$rc" -ne 0 ]; then
    for c in "${containers[@]}"; do
      echo "---- last log lines of container $c" >&2
      timeout 20 "$engine" logs --tail 25 "$c" >&2 2>&1 || true
    done
  fi
  for c in "${containers[@]}"; do timeout 60 "$engine" rm -f -v -t 0 "$c" >/dev/null 2>&1 || true; done
  for v in "${volumes[@]}"; do timeout 60 "$engine" volume rm -f "$v" >/dev/null 2>&1 || true; done
  rm -rf "$scratch"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'echo "test-image: FAIL: over ${test_timeout}s" >&2; exit 124' TERM
# The watchdog: TERM to this script after $test_timeout s; its own sleep goes with it, and it
# holds no output open (CI reads this script's output to the end).
(
  trap 'kill "$sleeper" 2>/dev/null; exit 0' TERM
  sleep "$test_timeout" &
  sleeper=$!
  wait "$sleeper" && kill -TERM $$
) >/dev/null 2>&1 &
watchdog=$!

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# N free TCP ports on 127.0.0.1 (held together while chosen, so they are distinct).
free_ports() {
  python3 - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}

health_code() {
  curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$1${2:-/__opr/health}" || true
}

# Waits until GET $2 on API port $1 answers 200; fails after $3 seconds.
wait_http() {
  local port="$1" path="$2" limit="$3" deadline
  deadline=$(($(now_ms) + limit * 1000))
  until [ "$(health_code "$port" "$path")" = 200 ]; do
    [ "$(now_ms)" -lt "$deadline" ] || return 1
    sleep 0.01
  done
}

# Engine wrapper: every call bounded. Podman without systemd complains on every container
# with a HEALTHCHECK that it cannot set up the check's timer; those lines are dropped.
e() {
  local rc=0
  timeout 120 "$engine" "$@" 2>"$scratch/engine.err" || rc=$?
  grep -v 'unable to get systemd connection' "$scratch/engine.err" >&2 || true
  return "$rc"
}

# The host side of the start-time comparison runs the image's own pgrt binary (built against
# the same Debian libraries), so the two differ only by the container.
host_pgrt="$scratch/pgrt"
e create --name "$tag-extract" "$image" >/dev/null || fail "create $tag-extract"
containers+=("$tag-extract")
e cp "$tag-extract:/usr/local/bin/pgrt" "$host_pgrt" || fail "copy pgrt out of the image"
"$host_pgrt" version >/dev/null || fail "the image's pgrt does not run on this host"

secrets="$scratch/secrets"
mkdir -p "$secrets"
head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$secrets/postgres_password"
head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$secrets/replication_password"
head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$secrets/api_token"
password=$(cat "$secrets/postgres_password")

# Common settings of every node here: loopback only, secrets from files.
node_env=(
  -e POSTGRES_USER=app -e POSTGRES_DB=app
  -e POSTGRES_PASSWORD_FILE=/run/secrets/postgres_password
  -e PGRT_API_TOKEN_FILE=/run/secrets/api_token
  -e POSTGRES_LISTEN_ADDRESSES=127.0.0.1 -e PGRT_API_ADDRESS=127.0.0.1
)
run_opts=(--network host --ulimit nofile=20000:20000 --ulimit nproc=32768:32768
  -v "$secrets:/run/secrets:ro")


# start_container NAME VOLUME PG_PORT API_PORT [more run options / env...]: sets $cid.
# (Not in a $(…) subshell: the ids must reach the cleanup's list.)
start_container() {
  local name="$1" volume="$2" pg="$3" api="$4"
  shift 4
  cid=$(e run -d --name "$name" "${run_opts[@]}" -v "$volume:/var/lib/postgresql/data" \
    "${node_env[@]}" -e POSTGRES_PORT="$pg" -e PGRT_API_PORT="$api" "$@" "$image") ||
    fail "run $name"
  containers+=("$cid")
}

new_volume() {  # sets $vol
  vol="$tag-$1"
  e volume create "$vol" >/dev/null || fail "volume create $vol"
  volumes+=("$vol")
}

process_users() {  # the accounts that run postgres processes in container $1
  if [ "$engine" = podman ]; then e top "$1" user comm; else e top "$1" -o user,comm; fi |
    awk 'NR > 1 && $2 ~ /^postgres/ {print $1}' | sort -u
}

psql_in() {  # psql_in CONTAINER PORT SQL  (password: $pg_password, else this run's own)
  e exec -e PGPASSWORD="${pg_password:-$password}" "$1" psql -X -q -h 127.0.0.1 -p "$2" -U app -d app \
    -v ON_ERROR_STOP=1 -tAc "$3"
}

median() { tr ' ' '\n' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# --- 1. the image ---------------------------------------------------------------------------

size=$("$engine" image inspect --format '{{.Size}}' "$image")
say "image $image: $((size / 1000000)) MB (official postgres:15 image, Debian: about 400 MB; target 60 %: 240 MB)"
contents=$(e run --rm --network host --entrypoint sh "$image" -c '
  pgrt version; pgbackrest version; pgbouncer --version | head -1
  for t in gcc g++ cc c++ clang make cmake; do command -v "$t" && echo "compiler: $t"; done
  [ -e /usr/include/stdio.h ] && echo "headers: /usr/include"
  [ -d /docker-entrypoint-initdb.d ] || echo "missing: /docker-entrypoint-initdb.d"
  id -u postgres; echo "PGDATA=$PGDATA"') || fail "image contents"
echo "$contents" | sed 's/^/    /'
echo "$contents" | grep -q '^pgrt ' || fail "pgrt version"
echo "$contents" | grep -q 'PostgreSQL) 15' || fail "postgres 15"
echo "$contents" | grep -q '^pgBackRest' || fail "pgbackrest"
echo "$contents" | grep -qi '^pgbouncer' || fail "pgbouncer"
if echo "$contents" | grep -E '^(compiler|headers|missing):'; then fail "image contents"; fi
ok "image holds pgrt, postgres 15, pgBackRest, PgBouncer; no compiler, no headers"
stop_signal=$("$engine" image inspect --format '{{.Config.StopSignal}}' "$image")
[ "$stop_signal" = SIGINT ] || fail "STOPSIGNAL is '$stop_signal', not SIGINT"
"$engine" image inspect --format '{{json .Config.Healthcheck}}' "$image" | grep -q healthcheck ||
  fail "HEALTHCHECK missing from the image (podman builds need --format docker)"
ok "image config: STOPSIGNAL SIGINT, HEALTHCHECK pgrt healthcheck"

# --- 2. start to healthy: container vs host ---------------------------------------------------

host_start() {  # host_start PGDATA PG_PORT API_PORT → sets host_pid
  (
    export POSTGRES_USER=app POSTGRES_DB=app POSTGRES_PASSWORD_FILE="$secrets/postgres_password"
    export POSTGRES_LISTEN_ADDRESSES=127.0.0.1 PGRT_API_ADDRESS=127.0.0.1
    export PGDATA="$1" POSTGRES_PORT="$2" PGRT_API_PORT="$3" PGRT_SOCKET_DIR="$scratch/run-$2"
    exec setsid "$host_pgrt" run >"$scratch/host-$2.log" 2>&1
  ) &
  host_pid=$!
}
host_stop() {
  kill -INT "$host_pid"
  timeout 30 tail --pid="$host_pid" -f /dev/null || fail "host pgrt did not stop"
  host_pid=""
}

declare -a c_init c_restart h_init h_restart
for i in $(seq 1 "$runs"); do
  read -r pg api < <(free_ports 2)
  t0=$(now_ms); host_start "$scratch/host-data-$i" "$pg" "$api"
  wait_http "$api" /__opr/health 60 || fail "host pgrt not healthy (log: $(tail -3 "$scratch/host-$pg.log"))"
  h_init+=($(($(now_ms) - t0))); host_stop
  t0=$(now_ms); host_start "$scratch/host-data-$i" "$pg" "$api"
  wait_http "$api" /__opr/health 60 || fail "host pgrt restart not healthy"
  h_restart+=($(($(now_ms) - t0))); host_stop

  read -r pg api < <(free_ports 2)
  new_volume "timing-$i"
  t0=$(now_ms); start_container "$tag-timing-$i" "$vol" "$pg" "$api"; c="$cid"
  wait_http "$api" /__opr/health 60 || fail "container not healthy"
  c_init+=($(($(now_ms) - t0)))
  e stop "$c" >/dev/null || fail "stop"
  t0=$(now_ms); e start "$c" >/dev/null || fail "start"
  wait_http "$api" /__opr/health 60 || fail "restarted container not healthy"
  c_restart+=($(($(now_ms) - t0)))
  e rm -f -t 0 "$c" >/dev/null
done
hi=$(echo "${h_init[*]}" | median); ci=$(echo "${c_init[*]}" | median)
hr=$(echo "${h_restart[*]}" | median); cr=$(echo "${c_restart[*]}" | median)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
say "start to healthy, median of $runs (ms): first start (initdb): host $hi, container $ci," \
  "ratio $(ratio "$ci" "$hi"); restart: host $hr, container $cr, ratio $(ratio "$cr" "$hr")"
say "  runs: host init ${h_init[*]}; container init ${c_init[*]};" \
  "host restart ${h_restart[*]}; container restart ${c_restart[*]}"
first_start_ratio=$(ratio "$ci" "$hi")
awk -v r="$first_start_ratio" 'BEGIN {exit !(r <= 1.2)}' &&
  ok "first start to healthy: container/host = $first_start_ratio (target <= 1.2)" ||
  say "WARNING: first start to healthy: container/host = $first_start_ratio, over the 1.2 target"

# --- 3. the Kubernetes pod's setup (deploy/kubernetes) ----------------------------------------
# uid 999 (runAsUser), read-only root, empty world-writable directories on /run and /tmp (the
# emptyDirs), PGDATA inside the volume.

read -r pg api < <(free_ports 2)
new_volume nonroot
mkdir -m 1777 "$scratch/k8s-run" "$scratch/k8s-tmp"
start_container "$tag-nonroot" "$vol" "$pg" "$api" --user postgres --read-only \
  -v "$scratch/k8s-run:/run" -v "$scratch/k8s-tmp:/tmp" -e PGDATA=/var/lib/postgresql/data/pgdata
c="$cid"
wait_http "$api" /__opr/health 60 || fail "non-root container not healthy"
[ "$(psql_in "$c" "$pg" 'select 1')" = 1 ] || fail "non-root query"
[ "$(process_users "$c")" = postgres ] || fail "non-root: postgres runs as $(process_users "$c")"
e stop "$c" >/dev/null || fail "stop"
[ "$(e inspect --format '{{.State.ExitCode}}' "$c")" = 0 ] || fail "non-root: exit code"
ok "the Kubernetes pod's setup: uid 999, read-only root, /run and /tmp empty, PGDATA in the volume"

# --- 4. primary and replica -------------------------------------------------------------------

read -r ppg papi rpg rapi < <(free_ports 4)
repl_env=(-e POSTGRES_REPLICATION_PASSWORD_FILE=/run/secrets/replication_password)
new_volume primary; pvol="$vol"
new_volume replica; rvol="$vol"
start_container "$tag-primary" "$pvol" "$ppg" "$papi" "${repl_env[@]}" \
  -e POSTGRES_REPLICATION_MODE=primary
primary="$cid"
wait_http "$papi" /primary 90 || fail "primary not ready"
start_container "$tag-replica" "$rvol" "$rpg" "$rapi" "${repl_env[@]}" \
  -e POSTGRES_REPLICATION_MODE=replica -e POSTGRES_PRIMARY_HOST=127.0.0.1 \
  -e POSTGRES_PRIMARY_PORT="$ppg" -e POSTGRES_REPLICATION_SLOT_NAME=replica_1
replica="$cid"
wait_http "$rapi" /replica 120 || fail "replica not ready"
ok "primary and replica ready (GET /primary, GET /replica)"

marker="written-$$-$(date +%s)"
psql_in "$primary" "$ppg" "create table image_test(v text); insert into image_test values ('$marker')" ||
  fail "write on the primary"
deadline=$(($(now_ms) + 60000))
until [ "$(psql_in "$replica" "$rpg" 'select v from image_test' 2>/dev/null)" = "$marker" ]; do
  [ "$(now_ms)" -lt "$deadline" ] || fail "the replica did not receive the write"
  sleep 0.2
done
ok "written on the primary, read on the replica"

for c in "$primary" "$replica"; do
  e exec "$c" pgrt healthcheck || fail "pgrt healthcheck in $c"
  if [ "$engine" = podman ]; then
    e healthcheck run "$c" >/dev/null || fail "image HEALTHCHECK in $c"
  fi
  users=$(process_users "$c")
  [ "$users" = postgres ] || fail "postgres processes in $c run as: $users"
done
ok "pgrt healthcheck and the image's HEALTHCHECK exit 0; postgres runs as postgres"

# --- 5. stop with the stop signal, restart on the same volumes ----------------------------------

for c in "$replica" "$primary"; do
  t0=$(now_ms)
  e stop "$c" >/dev/null || fail "stop $c"
  took=$(($(now_ms) - t0))
  code=$(e inspect --format '{{.State.ExitCode}}' "$c")
  [ "$code" = 0 ] || fail "container $c exited with $code after stop"
  say "stopped $c in $took ms, exit code 0"
done
ok "stop (STOPSIGNAL SIGINT): exit code 0"

start_container "$tag-primary-2" "$pvol" "$ppg" "$papi" "${repl_env[@]}" \
  -e POSTGRES_REPLICATION_MODE=primary
primary2="$cid"
wait_http "$papi" /primary 90 || fail "primary not ready after restart"
start_container "$tag-replica-2" "$rvol" "$rpg" "$rapi" "${repl_env[@]}" \
  -e POSTGRES_REPLICATION_MODE=replica -e POSTGRES_PRIMARY_HOST=127.0.0.1 \
  -e POSTGRES_PRIMARY_PORT="$ppg" -e POSTGRES_REPLICATION_SLOT_NAME=replica_1
replica2="$cid"
wait_http "$rapi" /replica 90 || fail "replica not ready after restart"
for c in "$primary2" "$replica2"; do
  log=$(e logs "$c" 2>&1)
  echo "$log" | grep -q "database system was shut down" ||
    fail "$c: no 'database system was shut down' in the log"
  if echo "$log" | grep -E "was interrupted|not properly shut down|automatic recovery in progress"; then
    fail "$c: crash recovery after a stop"
  fi
done
ok "restart: postgres found a clean shutdown (no crash recovery) on both"
[ "$(psql_in "$primary2" "$ppg" 'select v from image_test')" = "$marker" ] ||
  fail "data lost on the primary"
[ "$(psql_in "$replica2" "$rpg" 'select v from image_test')" = "$marker" ] ||
  fail "data lost on the replica"
psql_in "$primary2" "$ppg" "insert into image_test values ('after-restart')"
deadline=$(($(now_ms) + 60000))
until [ "$(psql_in "$replica2" "$rpg" 'select count(*) from image_test' 2>/dev/null)" = 2 ]; do
  [ "$(now_ms)" -lt "$deadline" ] || fail "replication did not resume after the restart"
  sleep 0.2
done
ok "restart with the same volumes: data there, replication resumed"

# --- 6. deploy/compose/primary-replica.yml, run by podman-compose --------------------------------
# As written, except for tests/deploy/compose-host-network.yml: host network and free ports
# (no bridge network works on this machine). The image is the one built above.

if [ "$engine" = podman ] && command -v podman-compose >/dev/null; then
  project="$tag-compose"
  read -r PGRT_T_PRIMARY_PG PGRT_T_PRIMARY_API PGRT_T_REPLICA_PG PGRT_T_REPLICA_API < <(free_ports 4)
  export PGRT_T_PRIMARY_PG PGRT_T_PRIMARY_API PGRT_T_REPLICA_PG PGRT_T_REPLICA_API PGRT_IMAGE="$image"
  # podman-compose 1.0.3 (bookworm) adds its project network even to a service with
  # network_mode: host, which podman refuses; this shim drops that network (and its creation).
  cat >"$scratch/podman-shim" <<'SHIM'
#!/usr/bin/env bash
case "$1 $2" in "network exists" | "network create") exit 0 ;; esac
args=()
while [ $# -gt 0 ]; do
  case "$1" in --net | --network-alias) shift 2 ;; *) args+=("$1"); shift ;; esac
done
exec podman "${args[@]}"
SHIM
  chmod +x "$scratch/podman-shim"
  compose=(timeout 300 podman-compose --podman-path "$scratch/podman-shim" -p "$project"
    -f deploy/compose/primary-replica.yml -f tests/deploy/compose-host-network.yml)
  # The names podman-compose gives them: PROJECT_SERVICE_N and PROJECT_VOLUME.
  containers+=("${project}_primary_1" "${project}_replica_1")
  volumes+=("${project}_primary-data" "${project}_replica-data")
  "${compose[@]}" up -d >"$scratch/compose.log" 2>&1 ||
    fail "podman-compose up: $(tail -5 "$scratch/compose.log")"
  wait_http "$PGRT_T_PRIMARY_API" /primary 90 || fail "compose primary not ready"
  wait_http "$PGRT_T_REPLICA_API" /replica 120 || fail "compose replica not ready"
  pg_password=$(cat deploy/compose/secrets/postgres_password)
  psql_in "${project}_primary_1" "$PGRT_T_PRIMARY_PG" "create table c(v int); insert into c values (42)"
  deadline=$(($(now_ms) + 60000))
  until [ "$(psql_in "${project}_replica_1" "$PGRT_T_REPLICA_PG" 'select v from c' 2>/dev/null)" = 42 ]; do
    [ "$(now_ms)" -lt "$deadline" ] || fail "compose: the replica did not receive the write"
    sleep 0.2
  done
  e healthcheck run "${project}_replica_1" >/dev/null || fail "compose healthcheck"
  "${compose[@]}" stop >>"$scratch/compose.log" 2>&1 || fail "podman-compose stop"
  for c in "${project}_primary_1" "${project}_replica_1"; do
    code=$(e inspect --format '{{.State.ExitCode}}' "$c")
    [ "$code" = 0 ] || fail "compose: $c exited with $code"
  done
  ok "deploy/compose/primary-replica.yml with podman-compose: secrets as files, write on the" \
    "primary read on the replica, healthcheck, stop with exit code 0"
else
  say "skipped: deploy/compose with podman-compose (engine $engine, podman-compose not installed)"
fi

echo "test-image: $passed passed, 0 failed"
