#!/usr/bin/env python3
"""Offline validation of deploy/compose/*.yml.

Checks the subset of the Compose specification these files use (keys, interpolation, build
context, secrets, volumes, ports, healthchecks, depends_on) and pgrt's contract (variables,
_FILE secrets mounted from compose secrets, replicas pointing at a primary service, one slot per
replica). When `docker compose` or `podman-compose` can run here, their `config` is run too.

Usage: validate_compose.py [DIR]   (default deploy/compose)"""

import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import deploylib  # noqa: E402

EXPECTED_FILES = ["standalone.yml", "primary-replica.yml", "primary-replica-pgbouncer.yml"]
TOP_LEVEL = {"version", "name", "services", "networks", "volumes", "secrets", "configs"}
SERVICE_KEYS = {
    "build", "image", "environment", "env_file", "secrets", "ports", "volumes", "healthcheck",
    "depends_on", "restart", "shm_size", "stop_signal", "stop_grace_period", "command",
    "entrypoint", "networks", "ulimits", "labels", "user", "deploy", "expose", "hostname",
    "container_name", "logging", "tmpfs", "cap_add", "cap_drop", "security_opt", "mem_limit",
    "pull_policy",
}
HEALTHCHECK_KEYS = {"test", "interval", "timeout", "retries", "start_period", "start_interval",
                    "disable"}
DURATION = re.compile(r"^(\d+(us|ms|s|m|h))+$")
INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")
CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}


def interpolate(value, problems, where):
    """Compose's ${VAR:-default}: the default is what a fresh checkout gets."""
    def repl(m):
        name, op, default = m.group(1), m.group(2), m.group(3)
        if name in os.environ and (os.environ[name] or op not in (":-", ":?")):
            return os.environ[name]
        problems.check(op in (":-", "-", ":?", "?"), where,
                       f"${{{name}}} has no default: the file does not work as written")
        return default or ""
    return INTERPOLATION.sub(repl, value)


def resolve(node, problems, where):
    if isinstance(node, str):
        return interpolate(node, problems, where)
    if isinstance(node, list):
        return [resolve(v, problems, where) for v in node]
    if isinstance(node, dict):
        return {k: resolve(v, problems, where) for k, v in node.items()}
    return node


def environment_of(service, problems, where):
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    problems.check(isinstance(env, dict), where, "environment must be a map or a list")
    for name, value in env.items():
        # Unquoted YAML booleans and numbers are read differently by engines: keep them strings.
        problems.check(isinstance(value, str), where, f"environment {name}: quote the value {value!r}")
    return env


def listening_ports(env):
    ports = {env.get("POSTGRES_PORT", "5432"), env.get("PGRT_API_PORT", "3000")}
    if str(env.get("PGBOUNCER_ENABLED", "false")).lower() == "true":
        ports.add(env.get("PGBOUNCER_PORT", "6432"))
    return ports


def check_service(problems, where, name, svc, doc, base_dir, known):
    for key in svc:
        problems.check(key in SERVICE_KEYS or key.startswith("x-"), where, f"unknown key {key}")
    problems.check("image" in svc, where, "image: names the locally built image")

    build = svc.get("build")
    if problems.check(isinstance(build, dict), where, "build: {context, dockerfile} expected"):
        context = os.path.normpath(os.path.join(base_dir, build.get("context", ".")))
        dockerfile = os.path.join(context, build.get("dockerfile", "Dockerfile"))
        problems.check(os.path.isdir(os.path.join(context, "src")), where,
                       f"build context {context} is not the repository root")
        problems.check(os.path.isfile(dockerfile), where, f"{dockerfile} does not exist")

    env = environment_of(svc, problems, where)
    deploylib.check_node_environment(problems, where, env, known)

    secrets = [s if isinstance(s, str) else s.get("source") for s in svc.get("secrets", [])]
    top_secrets = doc.get("secrets") or {}
    for secret in secrets:
        if problems.check(secret in top_secrets, where, f"secret {secret} is not defined"):
            path = os.path.join(base_dir, top_secrets[secret].get("file", ""))
            problems.check(os.path.isfile(path), where, f"secret {secret}: {path} does not exist")
    for var, value in env.items():
        if var.endswith("_FILE") and isinstance(value, str):
            m = re.match(r"^/run/secrets/([A-Za-z0-9_.-]+)$", value)
            problems.check(bool(m) and m.group(1) in secrets, where,
                           f"{var}={value} is not a secret mounted in this service")

    pgdata = env.get("PGDATA", "/var/lib/postgresql/data")
    targets = []
    for vol in svc.get("volumes", []):
        source, _, target = vol.partition(":") if isinstance(vol, str) else (
            vol.get("source", ""), None, vol.get("target", ""))
        target = target.split(":")[0]
        targets.append(target)
        if not source.startswith((".", "/", "~")):
            problems.check(source in (doc.get("volumes") or {}), where,
                           f"volume {source} is not defined at the top level")
    problems.check(pgdata in targets, where, f"no volume on PGDATA ({pgdata}): data would be lost")

    for port in svc.get("ports", []):
        m = re.match(r"^(?:([\d.]+):)?(\d+):(\d+)$", str(port))
        if problems.check(bool(m), where, f"port {port!r}: HOST:CONTAINER expected"):
            problems.check(m.group(3) in listening_ports(env), where,
                           f"port {port}: nothing listens on {m.group(3)} in the container")

    hc = svc.get("healthcheck")
    if problems.check(isinstance(hc, dict), where, "healthcheck missing"):
        for key in hc:
            problems.check(key in HEALTHCHECK_KEYS, where, f"healthcheck: unknown key {key}")
        problems.check(hc.get("test") == ["CMD", "pgrt", "healthcheck"], where,
                       'healthcheck.test should be ["CMD", "pgrt", "healthcheck"]')
        for key in ("interval", "timeout", "start_period"):
            if key in hc:
                problems.check(bool(DURATION.match(str(hc[key]))), where, f"healthcheck.{key}")
    problems.check(svc.get("stop_signal", "SIGINT") in ("SIGINT", "SIGTERM"), where,
                   "stop_signal: pgrt shuts down fast on SIGINT or SIGTERM")
    if "stop_grace_period" in svc:
        problems.check(bool(DURATION.match(str(svc["stop_grace_period"]))), where,
                       "stop_grace_period")

    deps = svc.get("depends_on", {})
    if isinstance(deps, list):
        deps = {d: {"condition": "service_started"} for d in deps}
    for dep, spec in deps.items():
        problems.check(dep in doc["services"], where, f"depends_on {dep}: no such service")
        problems.check(spec.get("condition") in CONDITIONS, where, f"depends_on {dep}: condition")
    return env, deps


def check_file(problems, path, known):
    where_file = os.path.relpath(path, deploylib.REPO)
    docs = deploylib.load_documents(path)
    if not problems.check(len(docs) == 1 and isinstance(docs[0], dict), where_file,
                          "one YAML document with a map expected"):
        return
    raw = docs[0]
    doc = resolve({k: v for k, v in raw.items() if not k.startswith("x-")}, problems, where_file)
    for key in doc:
        problems.check(key in TOP_LEVEL, where_file, f"unknown top-level key {key}")
    problems.check(bool(re.match(r"^[a-z0-9][a-z0-9_-]*$", doc.get("name", ""))), where_file,
                   "name: a project name of lower-case letters, digits, - and _")
    services = doc.get("services") or {}
    problems.check(bool(services), where_file, "no services")
    base_dir = os.path.dirname(path)

    envs, deps, host_ports = {}, {}, {}
    for name, svc in services.items():
        where = f"{where_file}: services.{name}"
        envs[name], deps[name] = check_service(problems, where, name, svc, doc, base_dir, known)
        for port in svc.get("ports", []):
            host = str(port).split(":")[-2] if ":" in str(port) else None
            if host:
                problems.check(host not in host_ports, where,
                               f"host port {host} also published by {host_ports.get(host)}")
                host_ports[host] = name

    slots = {}
    for name, env in envs.items():
        where = f"{where_file}: services.{name}"
        if env.get("POSTGRES_REPLICATION_MODE") != "replica":
            continue
        primary = env.get("POSTGRES_PRIMARY_HOST")
        if not problems.check(primary in envs, where,
                              f"POSTGRES_PRIMARY_HOST {primary} is not a service of this file"):
            continue
        penv = envs[primary]
        problems.check(penv.get("POSTGRES_REPLICATION_MODE") == "primary", where,
                       f"{primary} is not POSTGRES_REPLICATION_MODE=primary")
        problems.check(env.get("POSTGRES_PRIMARY_PORT", "5432") == penv.get("POSTGRES_PORT", "5432"),
                       where, "POSTGRES_PRIMARY_PORT differs from the primary's POSTGRES_PORT")
        problems.check(deps[name].get(primary, {}).get("condition") == "service_healthy", where,
                       f"depends_on {primary} with condition service_healthy expected")
        for var in ("POSTGRES_REPLICATION_PASSWORD_FILE", "POSTGRES_REPLICATION_PASSWORD",
                    "POSTGRES_USER"):
            problems.check(env.get(var) == penv.get(var), where, f"{var} differs from {primary}'s")
        slot = env.get("POSTGRES_REPLICATION_SLOT_NAME", "replica_slot")
        problems.check((primary, slot) not in slots, where,
                       f"slot {slot} is also used by {slots.get((primary, slot))}: one per replica")
        slots[(primary, slot)] = name

    if os.path.basename(path) == "primary-replica-pgbouncer.yml":
        pooled = [n for n, e in envs.items() if e.get("PGBOUNCER_ENABLED") == "true"
                  and e.get("POSTGRES_REPLICATION_MODE") == "primary"]
        problems.check(len(pooled) == 1, where_file, "the primary should have PGBOUNCER_ENABLED=true")
    if os.path.basename(path).startswith("primary-replica"):
        modes = sorted(e.get("POSTGRES_REPLICATION_MODE", "standalone") for e in envs.values())
        problems.check(modes == ["primary", "replica"], where_file, f"roles {modes}")


def engine_config(path):
    """`config` of a real compose implementation, when one can run here."""
    # docker compose: the plugin must be there. podman-compose: `config` came after 1.0.3.
    for argv, probe_args, needs in ((["docker", "compose"], ["version"], ""),
                                    (["podman-compose"], ["--help"], "config")):
        if not shutil.which(argv[0]):
            continue
        probe = subprocess.run(argv + probe_args, capture_output=True, text=True, timeout=60)
        if probe.returncode != 0 or needs not in probe.stdout:
            continue
        cmd = argv + ["-f", path, "config"]
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        return " ".join(argv), run.returncode, (run.stdout + run.stderr)[-2000:]
    return None, 0, ""


def main():
    directory = sys.argv[1] if len(sys.argv) > 1 else os.path.join(deploylib.REPO, "deploy", "compose")
    problems = deploylib.Problems()
    known = deploylib.known_variables()
    for name in EXPECTED_FILES:
        path = os.path.join(directory, name)
        if problems.check(os.path.isfile(path), name, "missing"):
            check_file(problems, path, known)
            tool, rc, out = engine_config(path)
            if tool:
                problems.check(rc == 0, name, f"`{tool} config` failed:\n{out}")
                print(f"{name}: `{tool} config` exit {rc}")
            else:
                print(f"{name}: no docker compose or podman-compose with `config` here: "
                      "structural checks only")
    return problems.finish("validate_compose")


if __name__ == "__main__":
    sys.exit(main())
