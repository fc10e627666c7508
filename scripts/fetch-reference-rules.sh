#!/usr/bin/env bash
# Fetches the alert rules that pgrt's /metrics promises to satisfy, as their projects publish
# them, pinned by commit and checked by SHA-256, into a directory the integration tests read
# (tests/integration/metrics_stock_alerts_test.cc). They are other projects' files, so they are
# fetched, not kept in this repository:
#   - postgres_exporter's postgres_mixin alerts (Apache-2.0), rendered by the test with jsonnet,
#     and its dashboard;
#   - awesome-prometheus-alerts' rules for postgres_exporter and PgBouncer (CC BY 4.0).
# Idempotent: a file already present with the right checksum is not fetched again.
#
#   scripts/fetch-reference-rules.sh [DIR]    (default /usr/local/share/pgrt-reference-rules)
set -euo pipefail

dir="${1:-/usr/local/share/pgrt-reference-rules}"
mixin="https://raw.githubusercontent.com/prometheus-community/postgres_exporter/dbb1987e2f0db61c47efb1bb66cc15bbf16f4c11/postgres_mixin"
awesome="https://raw.githubusercontent.com/samber/awesome-prometheus-alerts/a8533189af0246de5e21a6d8d25bd37816894f07/dist/rules"

# target path, sha256, source URL
files=(
  "postgres_mixin/alerts/alerts.libsonnet 2ec2633b1adbe3ce8ed89ff8b7d486ccdd4d1d90fa43eb3395a7ab4111a7d16f $mixin/alerts/alerts.libsonnet"
  "postgres_mixin/alerts/postgres.libsonnet 7700f4db3b13d36ec87011e0cf616a6f8463ec6acb05d38e76a979c04be998af $mixin/alerts/postgres.libsonnet"
  "postgres_mixin/config.libsonnet a749f04f7df3e320701fd14e7404829e5a2f5991afe8cbe48b510dd46bf239f1 $mixin/config.libsonnet"
  "postgres_mixin/dashboards/postgres-overview.json 54906f590027076f7e918bca58269ff636df7886723a1f99caf4b283c0d9fe0d $mixin/dashboards/postgres-overview.json"
  "awesome-prometheus-alerts/postgres-exporter.yml 0f183dfbecddc542071918f7f3612b9618f28e10e20f72d11fe236a1b053975d $awesome/postgresql/postgres-exporter.yml"
  "awesome-prometheus-alerts/spreaker-pgbouncer-exporter.yml b900d6748359b782c8e28685b2b900f890ce1daa545a74ccd1ee3990eff614dd $awesome/pgbouncer/spreaker-pgbouncer-exporter.yml"
)

sudo=""
[ -w "$(dirname "$dir")" ] || [ "$(id -u)" -eq 0 ] || sudo="sudo"

for entry in "${files[@]}"; do
  read -r path sum url <<<"$entry"
  target="$dir/$path"
  if [ -f "$target" ] && echo "$sum  $target" | sha256sum --check --status; then continue; fi
  tmp="$(mktemp)"
  curl -fsSL --retry 3 -o "$tmp" "$url"
  if ! echo "$sum  $tmp" | sha256sum --check --status; then
    rm -f "$tmp"
    echo "fetch-reference-rules: $url does not have the pinned checksum" >&2
    exit 1
  fi
  $sudo mkdir -p "$(dirname "$target")"
  $sudo install -m 0644 "$tmp" "$target"
  rm -f "$tmp"
done
