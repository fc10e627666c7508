#!/usr/bin/env bash
# Lints deploy/Containerfile with dockerfilelint (npm, pinned version, installed once into a
# cache directory). Rules turned off, with the reason for each, are in deploy/.dockerfilelintrc.
# Exit 77 (ctest: skipped) when npm is missing or the npm registry cannot be reached.
set -euo pipefail
cd "$(dirname "$0")/../.."

version=1.8.0
cache="${PGRT_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pgrt-tools}"
prefix="$cache/dockerfilelint-$version"
bin="$prefix/node_modules/.bin/dockerfilelint"

if [ ! -x "$bin" ]; then
  if ! command -v npm >/dev/null; then
    echo "skipped: npm is not installed (dockerfilelint comes from the npm registry)"
    exit 77
  fi
  mkdir -p "$cache"
  tmp=$(mktemp -d "$cache/.install.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  if ! timeout 240 npm install --prefix "$tmp" --no-audit --no-fund --loglevel=error \
      "dockerfilelint@$version" >"$tmp.log" 2>&1; then
    tail -5 "$tmp.log"
    echo "skipped: npm install dockerfilelint@$version failed"
    rm -f "$tmp.log"
    exit 77
  fi
  rm -f "$tmp.log"
  rm -rf "$prefix"
  mv "$tmp" "$prefix"
fi

# --config: the directory of .dockerfilelintrc.
"$bin" --config deploy deploy/Containerfile
echo "dockerfilelint $version: deploy/Containerfile: no problems"
