#!/usr/bin/env bash
# `make image`: builds the pgrt container image (deploy/Containerfile) without any container
# registry. The base image is Debian bookworm made by debootstrap and imported into the engine,
# once: it is cached by name (and its rootfs tarball in the cache directory).
#
#   scripts/build-image.sh               build $PGRT_IMAGE (default localhost/pgrt:latest)
#   scripts/build-image.sh --base-only   only make sure the base image exists
#   scripts/build-image.sh --print-env   print the engine settings as shell assignments
#                                        (eval them to drive the same engine and storage)
#   scripts/build-image.sh --probe       can containers run here? Installs what is missing,
#                                        makes the base, runs `true` in it; exit 0 if so, else
#                                        prints why and exits 1 (.ci/run uses it)
#
# Engine: docker when a docker engine answers `docker info`, else podman (installed when missing,
# through scripts/install-deps.sh --container). PGRT_ENGINE=podman|docker forces one. Podman runs
# with runc, cgroupfs, the host network and explicit ulimits (what works on this kind of machine),
# configured by files in the cache directory unless CONTAINERS_CONF is already set.
#
# Variables: PGRT_IMAGE, PGRT_BASE_IMAGE (localhost/pgrt-bookworm-base:latest),
# PGRT_IMAGE_CACHE (/var/cache/pgrt-image as root, else ~/.cache/pgrt-image),
# PGRT_DEBIAN_MIRROR (http://deb.debian.org/debian), PGRT_BUILD_ARGS (extra build arguments,
# e.g. "--build-arg PGRT_JIT=true").
set -euo pipefail
cd "$(dirname "$0")/.."

# Bump when the base recipe below changes: a cached base of another recipe is rebuilt.
readonly BASE_RECIPE=1

image="${PGRT_IMAGE:-localhost/pgrt:latest}"
base="${PGRT_BASE_IMAGE:-localhost/pgrt-bookworm-base:latest}"
mirror="${PGRT_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
if [ -n "${PGRT_IMAGE_CACHE:-}" ]; then
  cache="$PGRT_IMAGE_CACHE"
elif [ "$(id -u)" -eq 0 ]; then
  cache=/var/cache/pgrt-image
else
  cache="${XDG_CACHE_HOME:-$HOME/.cache}/pgrt-image"
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

log() { echo "build-image: $*" >&2; }
die() { echo "build-image: $*" >&2; exit 1; }

# --- engine -------------------------------------------------------------------------------

pick_engine() {
  case "${PGRT_ENGINE:-auto}" in
    podman | docker) echo "$PGRT_ENGINE" ;;
    auto)
      if command -v docker >/dev/null && timeout 20 docker info >/dev/null 2>&1; then
        echo docker
      else
        echo podman
      fi
      ;;
    *) die "PGRT_ENGINE must be podman, docker or auto" ;;
  esac
}

# Podman's configuration for this machine kind: runc (crun fails on its cgroup setup),
# cgroupfs, a file event log, the host network, explicit ulimits (the inherited ones are refused
# by runc here); storage under the cache directory; and no registry to search for short names,
# so nothing can be pulled by accident.
podman_config() {
  mkdir -p "$cache/podman"
  if [ -z "${CONTAINERS_CONF:-}" ]; then
    cat >"$cache/podman/containers.conf" <<'CONF'
[containers]
netns = "host"
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
    export CONTAINERS_CONF="$cache/podman/containers.conf"
  fi
  if [ -z "${CONTAINERS_STORAGE_CONF:-}" ]; then
    cat >"$cache/podman/storage.conf" <<CONF
[storage]
driver = "overlay"
runroot = "$cache/podman/run"
graphroot = "$cache/podman/graph"
CONF
    export CONTAINERS_STORAGE_CONF="$cache/podman/storage.conf"
  fi
  if [ -z "${CONTAINERS_REGISTRIES_CONF:-}" ]; then
    echo 'unqualified-search-registries = []' >"$cache/podman/registries.conf"
    export CONTAINERS_REGISTRIES_CONF="$cache/podman/registries.conf"
  fi
}

# Podman, runc, podman-compose, debootstrap: a no-op when all are installed.
ensure_podman() {
  scripts/install-deps.sh --container
}

# --- base image ---------------------------------------------------------------------------

base_is_current() {
  local recipe
  recipe=$("$engine" image inspect --format '{{ index .Config.Labels "org.pgrt.base-recipe" }}' \
    "$base" 2>/dev/null) || return 1
  [ "$recipe" = "$BASE_RECIPE" ]
}

# debootstrap's minbase, trimmed the way Debian's official slim images are: no docs, man
# pages, translations or apt lists, and dpkg told to keep them out of later installs too.
make_rootfs_tarball() {
  local tarball="$1" rootfs
  command -v debootstrap >/dev/null || scripts/install-deps.sh --container
  rootfs=$(mktemp -d "$cache/rootfs.XXXXXX")
  # The rootfs holds device nodes and root-owned files: remove it with the same privileges.
  trap '$sudo rm -rf "$rootfs"' EXIT
  log "debootstrap bookworm (minbase) from $mirror (about 2 minutes)"
  $sudo debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$cache/debootstrap.log" 2>&1 ||
    { tail -20 "$cache/debootstrap.log" >&2; die "debootstrap failed (log: $cache/debootstrap.log)"; }
  $sudo bash -euo pipefail -s "$rootfs" "$mirror" <<'TRIM'
r="$1"; mirror="$2"
security="${mirror%/debian}/debian-security"
cat >"$r/etc/apt/sources.list" <<EOF
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb $security bookworm-security main
EOF
cat >"$r/etc/dpkg/dpkg.cfg.d/pgrt-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
cat >"$r/etc/apt/apt.conf.d/pgrt-slim" <<'EOF'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
Acquire::GzipIndexes "true";
Acquire::CompressionTypes::Order:: "gz";
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
find "$r/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
find "$r/usr/share/doc" -mindepth 1 -type d -empty -delete
rm -rf "$r"/usr/share/man/* "$r"/usr/share/info/* "$r"/usr/share/groff/* "$r"/usr/share/lintian/*
find "$r/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
rm -rf "$r"/var/cache/apt/archives/*.deb "$r"/var/cache/apt/*.bin "$r"/var/lib/apt/lists/*
rm -rf "$r"/var/log/* "$r"/tmp/* "$r"/var/tmp/* "$r"/root/.cache
: >"$r/etc/resolv.conf"
: >"$r/etc/hostname"
TRIM
  $sudo tar --numeric-owner -C "$rootfs" -cf "$tarball.part" .
  $sudo chown "$(id -u):$(id -g)" "$tarball.part"
  mv "$tarball.part" "$tarball"
  $sudo rm -rf "$rootfs"
  trap - EXIT
}

ensure_base() {
  if base_is_current; then
    log "base image $base is present"
    return
  fi
  local tarball="$cache/bookworm-minbase-r$BASE_RECIPE.tar"
  if [ ! -s "$tarball" ]; then
    find "$cache" -maxdepth 1 -name 'bookworm-minbase-r*.tar' -delete  # other recipes' rootfs
    make_rootfs_tarball "$tarball"
  fi
  log "importing $tarball as $base"
  "$engine" import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["bash"]' \
    --change "LABEL org.pgrt.base-recipe=$BASE_RECIPE" \
    "$tarball" "$base" >/dev/null
  base_is_current || die "imported $base but it does not carry recipe $BASE_RECIPE"
}

# --- main ---------------------------------------------------------------------------------

mode=build
case "${1:-}" in
  --base-only) mode=base ;;
  --print-env) mode="env" ;;
  --probe) mode=probe ;;
  "") ;;
  *) die "usage: $0 [--base-only|--print-env|--probe]" ;;
esac

mkdir -p "$cache"
engine=$(pick_engine)
if [ "$engine" = podman ]; then
  if [ "$mode" = probe ]; then
    (ensure_podman) ||
      { log "cannot run containers: podman is missing and could not be installed"; exit 1; }
  else
    ensure_podman
  fi
  podman_config
fi

if [ "$mode" = probe ]; then
  (exec 9>"$cache/.lock" && flock 9 && ensure_base) ||
    { log "cannot run containers: no base image (debootstrap or import failed)"; exit 1; }
  if ! out=$(timeout 120 "$engine" run --rm --network host --ulimit nofile=20000:20000 \
      --ulimit nproc=32768:32768 "$base" true 2>&1); then
    log "cannot run containers: \`$engine run $base true\` failed: $(echo "$out" | tail -3)"
    exit 1
  fi
  log "$engine runs containers here"
  exit 0
fi

if [ "$mode" = env ]; then
  echo "PGRT_ENGINE=$engine"
  echo "PGRT_IMAGE=$image"
  echo "PGRT_BASE_IMAGE=$base"
  echo "PGRT_IMAGE_CACHE=$cache"
  if [ "$engine" = podman ]; then
    printf 'export CONTAINERS_CONF=%q CONTAINERS_STORAGE_CONF=%q CONTAINERS_REGISTRIES_CONF=%q\n' \
      "$CONTAINERS_CONF" "$CONTAINERS_STORAGE_CONF" "$CONTAINERS_REGISTRIES_CONF"
  fi
  exit 0
fi

# One builder of the base at a time (CI and a developer may share the cache).
exec 9>"$cache/.lock"
flock 9
ensure_base
flock -u 9
[ "$mode" = base ] && exit 0

log "building $image with $engine (base $base)"
start=$(date +%s)
# shellcheck disable=SC2086  # PGRT_BUILD_ARGS is a list of words on purpose
if [ "$engine" = podman ]; then
  podman build --format docker --pull=never --layers --network host \
    --ulimit nofile=20000:20000 --ulimit nproc=32768:32768 \
    --build-arg "BASE_IMAGE=$base" ${PGRT_BUILD_ARGS:-} \
    -f deploy/Containerfile -t "$image" .
else
  docker build --network host --build-arg "BASE_IMAGE=$base" ${PGRT_BUILD_ARGS:-} \
    -f deploy/Containerfile -t "$image" .
fi
# Each build of new sources leaves the previous builder stage behind, unnamed. In the storage
# this script owns, drop those older than a day (newer ones are the layer cache of the next
# build); a storage configured by the caller is left alone.
if [ "$engine" = podman ] && [ "$CONTAINERS_STORAGE_CONF" = "$cache/podman/storage.conf" ]; then
  podman image prune -f --filter until=24h >/dev/null 2>&1 || true
fi
size=$("$engine" image inspect --format '{{.Size}}' "$image")
log "built $image in $(($(date +%s) - start)) s, $((size / 1000000)) MB ($engine)"
if [ "$engine" = podman ]; then
  log "to use it: eval \"\$(scripts/build-image.sh --print-env)\"; podman run ... $image"
fi
