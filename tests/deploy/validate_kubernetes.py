#!/usr/bin/env python3
"""Offline validation of deploy/kubernetes/ (no cluster runs here).

1. Schema: every object's fields against the Kubernetes API models of Debian's
   python3-kubernetes (names at every depth, types, required fields), when installed;
   otherwise kinds, apiVersions and the required fields checked here.
2. References: selectors match pod labels, Services and probes name real container ports,
   volume mounts name real volumes, secret and config map keys exist, the kustomization lists
   every file, `kubectl kustomize` renders it (when kubectl is here).
3. pgrt's contract: variables, *_FILE paths that point at mounted secret keys, PGDATA on the
   claim, a writable parent of the socket directory under a read-only root, probes on pgrt's
   endpoints, the replicas' primary host, and the replicas' slot names: the container's
   command is run with sh for the first pod names to check the names it derives.

Usage: validate_kubernetes.py [DIR]   (default deploy/kubernetes)"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import deploylib  # noqa: E402

try:
    import kubernetes.client as k8s
except ImportError:
    k8s = None

KINDS = {
    ("v1", "Secret"): "V1Secret",
    ("v1", "ConfigMap"): "V1ConfigMap",
    ("v1", "Service"): "V1Service",
    ("apps/v1", "StatefulSet"): "V1StatefulSet",
}
REQUIRED = {  # without python3-kubernetes: the fields the API server insists on
    "StatefulSet": ["spec.selector", "spec.template", "spec.serviceName"],
    "Service": ["spec.ports"],
}
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
PRIMITIVES = {"str": str, "int": int, "bool": bool, "float": (int, float), "object": object,
              "datetime": str, "date": str}


# --- schema ---------------------------------------------------------------------------------

def check_schema(problems, where, value, type_name):
    """Walks `value` against python3-kubernetes' model `type_name`."""
    if type_name in PRIMITIVES:
        ok = isinstance(value, PRIMITIVES[type_name]) and not (
            type_name == "int" and isinstance(value, bool))
        problems.check(ok, where, f"expected {type_name}, got {type(value).__name__}")
        return
    m = re.match(r"^list\[(.*)\]$", type_name)
    if m:
        if problems.check(isinstance(value, list), where, "expected a list"):
            for i, item in enumerate(value):
                check_schema(problems, f"{where}[{i}]", item, m.group(1))
        return
    m = re.match(r"^dict\(str, (.*)\)$", type_name)
    if m:
        if problems.check(isinstance(value, dict), where, "expected a map"):
            for key, item in value.items():
                check_schema(problems, f"{where}.{key}", item, m.group(1))
        return
    model = getattr(k8s, type_name)
    if not problems.check(isinstance(value, dict), where, f"expected a {type_name} map"):
        return
    by_json = {json: attr for attr, json in model.attribute_map.items()}
    for key, item in value.items():
        if problems.check(key in by_json, where, f"unknown field {key} ({type_name})"):
            if item is not None:
                check_schema(problems, f"{where}.{key}", item, model.openapi_types[by_json[key]])
    # Required fields: the models' constructors refuse None for them.
    try:
        model(**{by_json[k]: v for k, v in value.items() if k in by_json})
    except ValueError as e:
        problems.check(False, where, f"{type_name}: {e}")
    except TypeError:
        pass


def get(obj, path, default=None):
    for part in path.split("."):
        if not isinstance(obj, dict) or part not in obj:
            return default
        obj = obj[part]
    return obj


# --- references and pgrt's contract ---------------------------------------------------------

def containerfile_uid():
    path = os.path.join(deploylib.REPO, "deploy", "Containerfile")
    with open(path, encoding="utf-8") as f:
        m = re.search(r"^ARG PG_UID=(\d+)$", f.read(), re.M)
    return int(m.group(1)) if m else None


def derived_slot_names(container, pod_names):
    """Runs the container's command with sh and a stand-in pgrt that prints the slot name."""
    command = container.get("command", []) + container.get("args", [])
    if command[:2] not in (["/bin/sh", "-c"], ["sh", "-c"]):
        return None
    with tempfile.TemporaryDirectory() as bindir:
        fake = os.path.join(bindir, "pgrt")
        with open(fake, "w") as f:
            f.write('#!/bin/sh\nprintf "%s" "$POSTGRES_REPLICATION_SLOT_NAME"\n')
        os.chmod(fake, 0o755)
        names = []
        for pod in pod_names:
            env = {"PATH": bindir + ":/usr/bin:/bin", "POD_NAME": pod}
            run = subprocess.run(["sh", "-c"] + command[2:], env=env, capture_output=True,
                                 text=True, timeout=10)
            names.append(run.stdout if run.returncode == 0 else None)
        return names


def container_env(container, config_maps, problems, where):
    env = {}
    for source in container.get("envFrom", []):
        name = get(source, "configMapRef.name")
        if name is not None and problems.check(name in config_maps, where,
                                               f"envFrom: no ConfigMap {name}"):
            env.update(config_maps[name].get("data", {}))
    for item in container.get("env", []):
        env[item["name"]] = item.get("value", "<from " + str(item.get("valueFrom")) + ">")
    return env


def check_pod(problems, where, sts, objects, known):
    spec = get(sts, "spec.template.spec", {})
    labels = get(sts, "spec.template.metadata.labels", {})
    match = get(sts, "spec.selector.matchLabels", {})
    problems.check(match and all(labels.get(k) == v for k, v in match.items()), where,
                   "spec.selector.matchLabels does not match the pod template's labels")
    secrets, config_maps = objects["Secret"], objects["ConfigMap"]
    services = objects["Service"]

    governing = services.get(get(sts, "spec.serviceName"))
    problems.check(governing is not None and get(governing, "spec.clusterIP") == "None", where,
                   f"serviceName {get(sts, 'spec.serviceName')} is not a headless Service here")
    if governing:
        sel = get(governing, "spec.selector", {})
        problems.check(all(labels.get(k) == v for k, v in sel.items()), where,
                       "the governing Service does not select these pods")

    claims = [get(c, "metadata.name") for c in get(sts, "spec.volumeClaimTemplates", [])]
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    for claim in claims:
        problems.check(claim not in volumes, where, f"volume {claim} shadows its claim template")
    for name, vol in volumes.items():
        if "secret" in vol:
            sname = vol["secret"].get("secretName")
            problems.check(sname in secrets, where, f"volume {name}: no Secret {sname}")
        if "configMap" in vol:
            cname = vol["configMap"].get("name")
            problems.check(cname in config_maps or vol["configMap"].get("optional"), where,
                           f"volume {name}: no ConfigMap {cname} and not optional")

    pod_sc = spec.get("securityContext", {})
    uid = containerfile_uid()
    problems.check(pod_sc.get("runAsUser") in (None, uid), where,
                   f"runAsUser {pod_sc.get('runAsUser')} is not the image's postgres uid {uid}")
    problems.check("fsGroup" in pod_sc, where, "securityContext.fsGroup: the volume must be writable")
    service_env_prefixes = [n.upper().replace("-", "_") for n in services]
    if any(p.startswith(("PGRT_", "POSTGRES_", "PGBOUNCER_")) for p in service_env_prefixes):
        problems.check(spec.get("enableServiceLinks") is False, where,
                       "enableServiceLinks must be false: Services named pgrt-* inject PGRT_* variables")

    containers = spec.get("containers", [])
    problems.check(len(containers) == 1, where, "one container (pgrt is the whole node)")
    for c in containers:
        cw = f"{where}: container {c.get('name')}"
        env = container_env(c, config_maps, problems, cw)
        deploylib.check_node_environment(problems, cw, env, known)
        def real(path):  # /var/run is a symlink to /run in the image
            return "/run" + path[len("/var/run"):] if path.startswith("/var/run/") else path

        mounts = {real(m["mountPath"]): m for m in c.get("volumeMounts", [])}
        for m in mounts.values():
            problems.check(m["name"] in volumes or m["name"] in claims, cw,
                           f"volumeMount {m['name']}: no such volume or claim template")
        for item in c.get("env", []):
            ref = get(item, "valueFrom.secretKeyRef")
            if ref:
                problems.check(ref.get("key") in secret_keys(secrets.get(ref.get("name"), {})),
                               cw, f"env {item['name']}: no key {ref.get('key')} in {ref.get('name')}")
            field = get(item, "valueFrom.fieldRef.fieldPath")
            if field:
                problems.check(field in ("metadata.name", "metadata.namespace", "status.podIP",
                                         "spec.nodeName", "spec.serviceAccountName"), cw,
                               f"env {item['name']}: fieldPath {field}")

        def mount_of(path):
            path = real(path)
            best = None
            for mp, m in mounts.items():
                if path == mp or path.startswith(mp.rstrip("/") + "/"):
                    if best is None or len(mp) > len(real(best["mountPath"])):
                        best = m
            return best

        for var, value in env.items():
            if var.endswith("_FILE") and var[:-5] in deploylib.SECRET_VARIABLES:
                m = mount_of(value)
                vol = volumes.get(m["name"]) if m else None
                ok = vol is not None and "secret" in vol and os.path.basename(value) in \
                    secret_keys(secrets.get(vol["secret"]["secretName"], {}))
                problems.check(ok, cw, f"{var}={value} is not a key of a mounted Secret")
        pgdata = env.get("PGDATA", "/var/lib/postgresql/data")
        data_mount = mount_of(pgdata)
        problems.check(data_mount is not None and data_mount["name"] in claims, cw,
                       f"PGDATA {pgdata} is not on a PersistentVolumeClaim")
        if data_mount is not None:
            problems.check(pgdata != data_mount["mountPath"], cw,
                           "PGDATA should be a directory inside the claim's mount point "
                           "(a fresh volume may hold lost+found)")
        socket_dir = env.get("PGRT_SOCKET_DIR", "/var/run/postgresql")
        if get(c, "securityContext.readOnlyRootFilesystem"):
            for path in (socket_dir, "/tmp"):
                problems.check(mount_of(path) is not None, cw,
                               f"{path} must be on a writable volume under a read-only root")
        m = mount_of(socket_dir)
        # pgrt creates the socket directory and sets its mode: a volume's root is owned by
        # root, and chmod on it fails for a non-root pod (seen here with podman).
        problems.check(m is None or real(m["mountPath"]) != real(socket_dir), cw,
            f"mount a parent of the socket directory {socket_dir}, not the directory itself")

        ports = {p.get("name"): p.get("containerPort") for p in c.get("ports", [])}
        api_port = int(env.get("PGRT_API_PORT", "3000"))
        pg_port = int(env.get("POSTGRES_PORT", "5432"))
        problems.check(ports.get("api") == api_port, cw, f"port api should be {api_port}")
        problems.check(ports.get("postgres") == pg_port, cw, f"port postgres should be {pg_port}")
        mode = env.get("POSTGRES_REPLICATION_MODE", "standalone")
        readiness = {"primary": ("/primary", "/readiness"), "replica": ("/replica", "/readiness")}
        expected = {"startupProbe": ("/__opr/health",), "livenessProbe": ("/liveness",),
                    "readinessProbe": readiness.get(mode, ("/readiness",))}
        for probe, paths in expected.items():
            http = get(c, f"{probe}.httpGet", {})
            problems.check(http.get("path", "").split("?")[0] in paths, cw,
                           f"{probe} should GET one of {paths}")
            port = http.get("port")
            problems.check(port == "api" or port == api_port, cw, f"{probe} on port {port}")

        if mode == "replica":
            check_replica(problems, cw, sts, c, env, services, objects)
    return labels


def check_replica(problems, where, sts, container, env, services, objects):
    host = env.get("POSTGRES_PRIMARY_HOST")
    svc = services.get(host)
    if problems.check(svc is not None, where, f"POSTGRES_PRIMARY_HOST {host} is not a Service here"):
        selected = [s for s in objects["StatefulSet"].values()
                    if all(get(s, "spec.template.metadata.labels", {}).get(k) == v
                           for k, v in get(svc, "spec.selector", {}).items())]
        modes = [container_env(get(s, "spec.template.spec.containers")[0], objects["ConfigMap"],
                               problems, where).get("POSTGRES_REPLICATION_MODE") for s in selected]
        problems.check(modes == ["primary"], where, f"Service {host} should select the primary set")
        ports = [p.get("port") for p in get(svc, "spec.ports", [])]
        problems.check(int(env.get("POSTGRES_PRIMARY_PORT", "5432")) in ports, where,
                       f"POSTGRES_PRIMARY_PORT is not a port of Service {host}")
    if "POSTGRES_REPLICATION_SLOT_NAME" in env:
        problems.check(get(sts, "spec.replicas", 1) <= 1, where,
                       "a fixed POSTGRES_REPLICATION_SLOT_NAME is shared by every replica pod")
        return
    problems.check(any(e.get("name") == "POD_NAME" and
                       get(e, "valueFrom.fieldRef.fieldPath") == "metadata.name"
                       for e in container.get("env", [])), where,
                   "POD_NAME from the downward API (metadata.name) is needed for the slot name")
    name = get(sts, "metadata.name")
    pods = [f"{name}-{i}" for i in range(max(3, get(sts, "spec.replicas", 1)))]
    slots = derived_slot_names(container, pods)
    if problems.check(slots is not None, where, "no slot name: neither set nor derived by sh -c"):
        for pod, slot in zip(pods, slots):
            problems.check(slot is not None and bool(deploylib.SLOT_NAME.match(slot)), where,
                           f"pod {pod} gets slot name {slot!r}")
        problems.check(len(set(slots)) == len(slots), where, f"slot names collide: {slots}")
        print(f"replica slot names: {dict(zip(pods, slots))}")


def secret_keys(secret):
    return set((secret.get("data") or {}).keys()) | set((secret.get("stringData") or {}).keys())


def check_service(problems, where, svc, pod_sets):
    selector = get(svc, "spec.selector", {})
    selected = [s for s in pod_sets.values()
                if selector and all(get(s, "spec.template.metadata.labels", {}).get(k) == v
                                    for k, v in selector.items())]
    problems.check(bool(selected), where, "the selector matches no pod template")
    for port in get(svc, "spec.ports", []):
        target = port.get("targetPort", port.get("port"))
        for s in selected:
            c = get(s, "spec.template.spec.containers")[0]
            names = {p.get("name"): p.get("containerPort") for p in c.get("ports", [])}
            problems.check(target in names or target in names.values(), where,
                           f"targetPort {target} is not a port of {get(s, 'metadata.name')}")


def main():
    directory = sys.argv[1] if len(sys.argv) > 1 else os.path.join(deploylib.REPO, "deploy", "kubernetes")
    problems = deploylib.Problems()
    known = deploylib.known_variables()
    objects = {kind: {} for _, kind in KINDS}
    files = sorted(f for f in os.listdir(directory) if f.endswith((".yaml", ".yml")))
    kustomization = None
    for name in files:
        path = os.path.join(directory, name)
        for i, doc in enumerate(deploylib.load_documents(path)):
            where = f"{name}#{i}"
            if doc.get("kind") == "Kustomization":
                kustomization = doc
                continue
            key = (doc.get("apiVersion"), doc.get("kind"))
            if not problems.check(key in KINDS, where, f"unexpected apiVersion/kind {key}"):
                continue
            meta_name = get(doc, "metadata.name", "")
            where = f"{name}: {doc['kind']}/{meta_name}"
            problems.check(bool(DNS_LABEL.match(meta_name)) and len(meta_name) <= 63, where,
                           "metadata.name must be a DNS label")
            problems.check(meta_name not in objects[doc["kind"]], where, "defined twice")
            for key_, value in (get(doc, "metadata.labels") or {}).items():
                problems.check(isinstance(value, str) and bool(LABEL_VALUE.match(value)), where,
                               f"label {key_}={value!r}")
            if k8s is not None:
                check_schema(problems, where, doc, KINDS[key])
            else:
                for field in REQUIRED.get(doc["kind"], []):
                    problems.check(get(doc, field) is not None, where, f"{field} is required")
            objects[doc["kind"]][meta_name] = doc
    if k8s is None:
        print("python3-kubernetes is not installed: kinds and required fields only, no field schema")

    for name, cm in objects["ConfigMap"].items():
        for key, value in (cm.get("data") or {}).items():
            problems.check(isinstance(value, str), f"ConfigMap/{name}", f"{key}: quote {value!r}")
    for name, sts in objects["StatefulSet"].items():
        check_pod(problems, f"StatefulSet/{name}", sts, objects, known)
    for name, svc in objects["Service"].items():
        check_service(problems, f"Service/{name}", svc, objects["StatefulSet"])
    modes = sorted(container_env(get(s, "spec.template.spec.containers")[0], objects["ConfigMap"],
                                 problems, "").get("POSTGRES_REPLICATION_MODE", "standalone")
                   for s in objects["StatefulSet"].values())
    problems.check(modes == ["primary", "replica"], "StatefulSets", f"roles {modes}")
    primaries = [s for s in objects["StatefulSet"].values()
                 if "primary" in get(s, "metadata.name", "")]
    problems.check(all(get(s, "spec.replicas", 1) == 1 for s in primaries), "StatefulSets",
                   "the primary set must have exactly one replica")

    if problems.check(kustomization is not None, "kustomization.yaml", "missing"):
        listed = set(kustomization.get("resources", []))
        expected = set(files) - {"kustomization.yaml"}
        problems.check(listed == expected, "kustomization.yaml",
                       f"resources {sorted(listed)} != files {sorted(expected)}")
        if shutil.which("kubectl"):
            run = subprocess.run(["kubectl", "kustomize", directory], capture_output=True,
                                 text=True, timeout=60)
            rendered = run.stdout.count("\nkind: ") + run.stdout.startswith("kind: ")
            total = sum(len(v) for v in objects.values())
            problems.check(run.returncode == 0 and rendered == total, "kubectl kustomize",
                           f"exit {run.returncode}, {rendered} objects of {total}: {run.stderr[-500:]}")
            print(f"kubectl kustomize: {rendered} objects rendered")
        else:
            print("kubectl is not installed: kustomization checked by listing only")
    return problems.finish("validate_kubernetes")


if __name__ == "__main__":
    sys.exit(main())
