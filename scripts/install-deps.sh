#!/usr/bin/env bash
# Installs the Debian (bookworm) packages pgrt builds, tests and runs with.
# Idempotent: packages already present are skipped, apt is not touched when nothing is missing.
#
#   scripts/install-deps.sh              what `make test` needs (with the reference alert rules
#                                        of scripts/fetch-reference-rules.sh)
#   scripts/install-deps.sh --container  only the container tools of `make image`/`make test-image`
#                                        (podman with runc, podman-compose, debootstrap);
#                                        optional, never needed by `make test`
set -euo pipefail

if [ "${1:-}" = "--container" ]; then
  packages=(podman runc uidmap slirp4netns fuse-overlayfs debootstrap debian-archive-keyring
    podman-compose)
else
  packages=(
    # build
    build-essential cmake pkg-config git ccache
    libpq-dev libssl-dev libevent-dev libevent-openssl-2.1-7 libhttp-parser-dev libcpp-httplib-dev nlohmann-json3-dev libcli11-dev libspdlog-dev libfmt-dev
    libgtest-dev googletest
    # what pgrt drives
    postgresql-15 postgresql-contrib postgresql-client-15 pgbouncer pgbackrest
    # test and benchmark peers
    haproxy prometheus prometheus-postgres-exporter curl iproute2 procps wrk
    etcd-server etcd-client
    # network partitions in the HA fault tests (ip netns + nftables), the status page's headless
    # browser test, and socat as a relay baseline of the scale-to-zero benchmark
    nftables chromium socat
    # only `make bench` needs these: Patroni 3.0.2, the peer of `pgrt_bench ha` (python3-etcd is
    # its etcd3 client, which apt does not pull in when another of its DCS modules is present)
    patroni python3-etcd
    # renders postgres_exporter's alert mixin for the stock-alerts test
    jsonnet
    # deploy/ validators (tests/deploy)
    python3 python3-yaml python3-kubernetes
  )
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# The other projects' alert rules the stock-alerts test runs (scripts/fetch-reference-rules.sh).
# They come from GitHub, which a machine without that network cannot reach: then the test is
# skipped (it says why), and nothing else depends on them.
fetch_rules() {
  "$(dirname "$0")/fetch-reference-rules.sh" ||
    echo "install-deps: warning: the reference alert rules could not be fetched; the stock-alerts test will be skipped" >&2
}
if [ ${#missing[@]} -eq 0 ]; then
  fetch_rules
  exit 0
fi

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

# pgrt manages its own clusters: keep Debian from creating and starting a default one.
if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
  $sudo mkdir -p /etc/postgresql-common
  echo "create_main_cluster = false" | $sudo tee /etc/postgresql-common/createcluster.conf >/dev/null
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fetch_rules
