"""Shared pieces of the offline validators of deploy/ (compose files, Kubernetes manifests).

The validators check what a real engine would reject, and what pgrt itself would refuse at
start, without running either: structure, references between objects, and the environment
contract of pgrt (names from docs/configuration.md, which is generated from pgrt's own
descriptor table)."""

import os
import re
import sys

try:
    import yaml
except ImportError:  # install-deps.sh installs python3-yaml
    print("PyYAML is missing: apt-get install python3-yaml (scripts/install-deps.sh)")
    sys.exit(1)

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

# Secrets pgrt also accepts as NAME_FILE (docs/configuration.md).
SECRET_VARIABLES = {"POSTGRES_PASSWORD", "POSTGRES_REPLICATION_PASSWORD", "PGRT_API_TOKEN"}
REQUIRED_VARIABLES = ["POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"]
SLOT_NAME = re.compile(r"^[a-z0-9_]{1,63}$")
REPLICATION_MODES = {"standalone", "primary", "replica"}


class Problems:
    """Collects problems as `file: where: what` lines; the validators exit 1 when any."""

    def __init__(self):
        self.items = []
        self.checks = 0

    def check(self, ok, where, what):
        self.checks += 1
        if not ok:
            self.items.append(f"{where}: {what}")
        return ok

    def finish(self, name):
        for item in self.items:
            print(f"FAIL {item}")
        print(f"{name}: {self.checks} checks, {len(self.items)} problems")
        return 1 if self.items else 0


def known_variables():
    """Every variable pgrt knows, read from the generated reference table."""
    path = os.path.join(REPO, "docs", "configuration.md")
    names = set()
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^\| `([A-Z][A-Z0-9_]*)` \|", line)
            if m:
                names.add(m.group(1))
    if not names:
        raise SystemExit(f"no variables found in {path}")
    return names


def check_variable_name(problems, where, name, known):
    """pgrt warns about unknown POSTGRES_*/PGRT_*/PGBOUNCER_* names: here they are errors."""
    if not re.match(r"^(POSTGRES_|PGRT_|PGBOUNCER_)", name) and name != "PGDATA":
        return
    base = name[: -len("_FILE")] if name.endswith("_FILE") else name
    if name.endswith("_FILE") and base in SECRET_VARIABLES:
        return
    problems.check(name in known, where, f"{name} is not a pgrt variable (docs/configuration.md)")


def check_node_environment(problems, where, env, known):
    """The contract of `pgrt run`: required variables, secrets given once, valid values."""
    for name in env:
        check_variable_name(problems, where, name, known)
    for name in REQUIRED_VARIABLES:
        given = [n for n in (name, name + "_FILE") if n in env]
        problems.check(len(given) == 1, where,
                       f"{name} must be given exactly once (as {name} or {name}_FILE)")
    for name in SECRET_VARIABLES:
        problems.check(not (name in env and name + "_FILE" in env), where,
                       f"{name} and {name}_FILE are both given")
    mode = env.get("POSTGRES_REPLICATION_MODE", "standalone")
    if isinstance(mode, str) and "$" in mode:
        return
    problems.check(mode in REPLICATION_MODES, where, f"POSTGRES_REPLICATION_MODE={mode!r}")
    if mode in ("primary", "replica"):
        problems.check("POSTGRES_REPLICATION_PASSWORD" in env or
                       "POSTGRES_REPLICATION_PASSWORD_FILE" in env, where,
                       f"a {mode} needs POSTGRES_REPLICATION_PASSWORD(_FILE)")
    if mode == "replica":
        problems.check("POSTGRES_PRIMARY_HOST" in env, where, "a replica needs POSTGRES_PRIMARY_HOST")
    slot = env.get("POSTGRES_REPLICATION_SLOT_NAME")
    if isinstance(slot, str) and "$" not in slot:
        problems.check(bool(SLOT_NAME.match(slot)), where,
                       f"POSTGRES_REPLICATION_SLOT_NAME {slot!r} does not match ^[a-z0-9_]{{1,63}}$")
    for name in ("POSTGRES_PORT", "POSTGRES_PRIMARY_PORT", "PGRT_API_PORT", "PGBOUNCER_PORT"):
        value = env.get(name)
        if isinstance(value, str) and "$" not in value:
            problems.check(value.isdigit() and 0 < int(value) < 65536, where, f"{name}={value!r}")
    if "PGBOUNCER_ENABLED" in env:
        problems.check(str(env["PGBOUNCER_ENABLED"]).lower() in ("true", "false"), where,
                       "PGBOUNCER_ENABLED must be true or false")


def load_documents(path):
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]
