#!/usr/bin/python3
"""Offline checks of deploy/kubernetes/*.yaml, without a cluster.

Each object is checked against the fields the Kubernetes API accepts for its kind (a
misspelt key such as `readinesProbe` is an error, as the API server's strict field
validation makes it), with the types they take; then across objects: the Service and
PodDisruptionBudget select the Deployment's pods, target ports and probe ports exist
on the container, the ConfigMap the volume names exists and its Corefile lands at the
path `-conf` reads. Every manifest must pass the restricted Pod Security Standard (what a
namespace enforcing `restricted` admits; the seccomp profile RuntimeDefault or Localhost,
never Unconfined). With --production, the properties a production deployment needs.
The Corefiles are written to OUT_DIR for `ringdns -validate`.

Usage: check_manifests.py [--production] MANIFEST OUT_DIR
"""
import sys

import yaml

# The accepted fields, by path; a dict maps keys to their schema, a list holds items of
# one schema, and a type checks a leaf. Only what a DNS forwarder's manifests use is
# listed; anything else is reported, so the list errs on the side of strictness.
QUANTITY = (str, int)
INT_OR_NAME = (int, str)
LABELS = {str: str}
METADATA = {"name": str, "namespace": str, "labels": LABELS, "annotations": LABELS}
SELECTOR = {"matchLabels": LABELS}
PROBE = {
    "httpGet": {"path": str, "port": INT_OR_NAME, "scheme": str},
    "initialDelaySeconds": int, "periodSeconds": int, "timeoutSeconds": int,
    "failureThreshold": int, "successThreshold": int,
}
CONTAINER = {
    "name": str, "image": str, "imagePullPolicy": str, "args": [str], "command": [str],
    "ports": [{"name": str, "containerPort": int, "protocol": str}],
    "readinessProbe": PROBE, "livenessProbe": PROBE, "startupProbe": PROBE,
    "resources": {"requests": {"cpu": QUANTITY, "memory": QUANTITY},
                  "limits": {"cpu": QUANTITY, "memory": QUANTITY}},
    "securityContext": {"allowPrivilegeEscalation": bool, "readOnlyRootFilesystem": bool,
                        "runAsNonRoot": bool, "runAsUser": int, "runAsGroup": int, "privileged": bool,
                        "capabilities": {"drop": [str], "add": [str]},
                        "seccompProfile": {"type": str, "localhostProfile": str}},
    "volumeMounts": [{"name": str, "mountPath": str, "readOnly": bool}],
}
POD_SPEC = {
    "containers": [CONTAINER],
    "volumes": [{"name": str, "configMap": {"name": str},
                 "secret": {"secretName": str, "defaultMode": int, "optional": bool}}],
    "affinity": {"podAntiAffinity": {
        "preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": int, "podAffinityTerm": {"topologyKey": str, "labelSelector": SELECTOR}}],
        "requiredDuringSchedulingIgnoredDuringExecution": [
            {"topologyKey": str, "labelSelector": SELECTOR}]}},
    "terminationGracePeriodSeconds": int,
    "hostNetwork": bool, "hostPID": bool, "hostIPC": bool,
    "automountServiceAccountToken": bool,
    "securityContext": {"runAsNonRoot": bool, "runAsUser": int, "runAsGroup": int,
                        "seccompProfile": {"type": str, "localhostProfile": str}},
}
SCHEMAS = {
    ("v1", "ConfigMap"): {"apiVersion": str, "kind": str, "metadata": METADATA, "data": {str: str}},
    ("apps/v1", "Deployment"): {"apiVersion": str, "kind": str, "metadata": METADATA, "spec": {
        "replicas": int, "revisionHistoryLimit": int, "selector": SELECTOR,
        "strategy": {"type": str, "rollingUpdate": {"maxUnavailable": INT_OR_NAME, "maxSurge": INT_OR_NAME}},
        "template": {"metadata": METADATA, "spec": POD_SPEC}}},
    ("v1", "Service"): {"apiVersion": str, "kind": str, "metadata": METADATA, "spec": {
        "selector": LABELS, "type": str, "clusterIP": str, "loadBalancerSourceRanges": [str],
        "ports": [{"name": str, "protocol": str, "port": int, "targetPort": INT_OR_NAME}]}},
    ("policy/v1", "PodDisruptionBudget"): {"apiVersion": str, "kind": str, "metadata": METADATA, "spec": {
        "minAvailable": INT_OR_NAME, "maxUnavailable": INT_OR_NAME, "selector": SELECTOR}},
}
REQUIRED = {
    "ConfigMap": ["metadata.name"],
    "Deployment": ["metadata.name", "spec.selector", "spec.template.metadata.labels", "spec.template.spec.containers"],
    "Service": ["metadata.name", "spec.selector", "spec.ports"],
    "PodDisruptionBudget": ["metadata.name", "spec.selector"],
}

errors = []

# The restricted Pod Security Standard (kubernetes.io/docs/concepts/security/pod-security-standards),
# as far as these manifests' fields reach: volume types, privilege escalation, non-root,
# seccomp, capabilities, and baseline's host namespaces and privileged containers.
RESTRICTED_VOLUMES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral",
                      "persistentVolumeClaim", "projected", "secret"}
SECCOMP_ALLOWED = {"RuntimeDefault", "Localhost"}


def restricted_violations(pod):
    found = []
    pod_sc = pod.get("securityContext", {})
    for host in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(host):
            found.append(f"{host} is true")
    for volume in pod.get("volumes", []):
        kinds = set(volume) - {"name"}
        if not kinds <= RESTRICTED_VOLUMES:
            found.append(f"volume {volume.get('name')} is of a type restricted forbids ({', '.join(sorted(kinds))})")
    # A value set at either level counts, as the admission controller reads it: the pod's
    # may not be wrong even where every container overrides it.
    if pod_sc.get("runAsNonRoot") is False:
        found.append("the pod sets runAsNonRoot: false")
    if pod_sc.get("runAsUser") == 0:
        found.append("the pod runs as user 0")
    found += seccomp_violations("the pod", pod_sc.get("seccompProfile"))
    for container in pod.get("containers", []):
        name = container.get("name")
        sc = container.get("securityContext", {})
        if sc.get("privileged"):
            found.append(f"container {name} is privileged")
        if sc.get("allowPrivilegeEscalation") is not False:
            found.append(f"container {name} must set allowPrivilegeEscalation: false")
        if sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")) is not True:
            found.append(f"container {name} must run as non-root (runAsNonRoot: true)")
        if sc.get("runAsUser") == 0:
            found.append(f"container {name} runs as user 0")
        if sc.get("seccompProfile") is not None:
            found += seccomp_violations(f"container {name}", sc["seccompProfile"])
        elif pod_sc.get("seccompProfile") is None:
            found.append(f"container {name} has no seccomp profile (RuntimeDefault or Localhost, at pod or container level)")
        if "ALL" not in get(sc, "capabilities.drop", []):
            found.append(f"container {name} must drop ALL capabilities")
        added = set(get(sc, "capabilities.add", [])) - {"NET_BIND_SERVICE"}
        if added:
            found.append(f"container {name} adds capabilities restricted forbids: {', '.join(sorted(added))}")
    return found


def seccomp_violations(who, profile):
    if profile is None:
        return []
    kind = profile.get("type")
    if kind not in SECCOMP_ALLOWED:
        return [f"{who} must run under seccomp profile RuntimeDefault or Localhost, not {kind}"]
    if kind == "Localhost" and not profile.get("localhostProfile"):
        return [f"{who}: a Localhost seccomp profile needs localhostProfile"]
    return []


def check(value, schema, path):
    if isinstance(schema, dict):
        if not isinstance(value, dict):
            errors.append(f"{path}: expected a mapping")
            return
        for key, item in value.items():
            if str in schema:  # a map of free keys
                check(key, str, f"{path}.{key}")
                check(item, schema[str], f"{path}.{key}")
            elif key not in schema:
                errors.append(f"{path}.{key}: unknown field")
            else:
                check(item, schema[key], f"{path}.{key}")
    elif isinstance(schema, list):
        if not isinstance(value, list):
            errors.append(f"{path}: expected a list")
            return
        for i, item in enumerate(value):
            check(item, schema[0], f"{path}[{i}]")
    elif not isinstance(value, schema) or (schema is int and isinstance(value, bool)):
        errors.append(f"{path}: expected {schema}, found {value!r}")


def get(obj, dotted, default=None):
    for part in dotted.split("."):
        if not isinstance(obj, dict) or part not in obj:
            return default
        obj = obj[part]
    return obj


def selects(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def main():
    production = "--production" in sys.argv
    manifest, out_dir = [a for a in sys.argv[1:] if a != "--production"]
    objects = [o for o in yaml.safe_load_all(open(manifest)) if o is not None]
    by_kind = {}
    for i, obj in enumerate(objects):
        key = (obj.get("apiVersion"), obj.get("kind"))
        where = f"{manifest}: object {i + 1} ({key[1]} {get(obj, 'metadata.name')})"
        if key not in SCHEMAS:
            errors.append(f"{where}: unknown apiVersion/kind {key}")
            continue
        check(obj, SCHEMAS[key], where)
        for field in REQUIRED[key[1]]:
            if get(obj, field) is None:
                errors.append(f"{where}: {field} is required")
        by_kind.setdefault(key[1], []).append(obj)

    deployments = by_kind.get("Deployment", [])
    if len(deployments) != 1:
        errors.append(f"{manifest}: expected one Deployment, found {len(deployments)}")
        return report()
    deployment = deployments[0]
    for violation in restricted_violations(get(deployment, "spec.template.spec", {})):
        errors.append(f"Deployment: restricted Pod Security Standard: {violation}")
    pod_labels = get(deployment, "spec.template.metadata.labels", {})
    if not selects(get(deployment, "spec.selector.matchLabels"), pod_labels):
        errors.append("Deployment: spec.selector does not select its own pod template")
    container = get(deployment, "spec.template.spec.containers")[0]
    ports = {(p.get("name"), p["containerPort"], p.get("protocol", "TCP")) for p in container.get("ports", [])}

    def port_exists(port, protocol):
        return any((isinstance(port, int) and port == number or port == name) and proto == protocol
                   for name, number, proto in ports)

    for service in by_kind.get("Service", []):
        if not selects(get(service, "spec.selector"), pod_labels):
            errors.append(f"Service {get(service, 'metadata.name')}: selector matches no pod of the Deployment")
        for p in get(service, "spec.ports", []):
            if not port_exists(p.get("targetPort", p["port"]), p.get("protocol", "TCP")):
                errors.append(f"Service port {p.get('name')}: targetPort {p.get('targetPort')} "
                              f"{p.get('protocol', 'TCP')} is not a container port")
        protocols = {(p["port"], p.get("protocol", "TCP")) for p in get(service, "spec.ports", [])}
        if not ({(53, "UDP"), (53, "TCP")} <= protocols or (853, "TCP") in protocols):
            errors.append("Service: DNS needs port 53 over both UDP and TCP (or 853 over TCP for DNS over TLS)")
    for pdb in by_kind.get("PodDisruptionBudget", []):
        if not selects(get(pdb, "spec.selector.matchLabels"), pod_labels):
            errors.append("PodDisruptionBudget: selector matches no pod of the Deployment")
    for probe in ("readinessProbe", "livenessProbe"):
        port = get(container, f"{probe}.httpGet.port")
        if port is not None and not port_exists(port, "TCP"):
            errors.append(f"{probe}: port {port} is not a container port")

    # The Corefile: from the ConfigMap the volume names, mounted where -conf reads it.
    args = container.get("args", [])
    conf = args[args.index("-conf") + 1] if "-conf" in args else None
    configmaps = {get(c, "metadata.name"): c for c in by_kind.get("ConfigMap", [])}
    corefile = None
    mounts = container.get("volumeMounts", [])
    secret_paths = []
    for mount in mounts:
        path = mount["mountPath"].rstrip("/")
        # A mount point inside another (read-only) volume would have to be created in it.
        for other in mounts:
            if other is not mount and path.startswith(other["mountPath"].rstrip("/") + "/"):
                errors.append(f"volumeMount {mount['name']}: {path} lies inside volumeMount {other['name']}")
        volume = next((v for v in get(deployment, "spec.template.spec.volumes", []) if v["name"] == mount["name"]), None)
        if volume is None:
            errors.append(f"volumeMount {mount['name']}: no such volume")
            continue
        if "secret" in volume:
            secret_paths.append(path + "/")
            continue
        cm = configmaps.get(get(volume, "configMap.name"))
        if cm is None:
            errors.append(f"volume {volume['name']}: ConfigMap {get(volume, 'configMap.name')} is not in the manifest")
            continue
        for key, text in cm.get("data", {}).items():
            if conf == f"{mount['mountPath'].rstrip('/')}/{key}":
                corefile = text
    if corefile is None:
        errors.append(f"-conf {conf}: no ConfigMap key is mounted there")
    else:
        with open(f"{out_dir}/Corefile", "w") as out:
            out.write(corefile + "\n")
        # Certificates and keys come from a mounted secret.
        for line in corefile.splitlines():
            words = line.split()
            if words and words[0] == "tls":
                for path in (w for w in words[1:] if w.startswith("/")):
                    if not any(path.startswith(p) for p in secret_paths):
                        errors.append(f"the Corefile's tls file {path} is in no mounted secret")

    if production:
        spec = deployment["spec"]
        pod = get(deployment, "spec.template.spec")
        csc = container.get("securityContext", {})
        demands = {
            "at least 2 replicas": spec.get("replicas", 1) >= 2,
            "rolling updates with maxUnavailable 0": get(spec, "strategy.rollingUpdate.maxUnavailable") == 0,
            "pod anti-affinity by node": "kubernetes.io/hostname" in yaml.safe_dump(pod.get("affinity", {})),
            "a PodDisruptionBudget": bool(by_kind.get("PodDisruptionBudget")),
            "readiness on /ready": get(container, "readinessProbe.httpGet.path") == "/ready",
            "liveness on /health": get(container, "livenessProbe.httpGet.path") == "/health",
            "cpu and memory requests": bool(get(container, "resources.requests.cpu")) and
                                       bool(get(container, "resources.requests.memory")),
            "a memory limit": bool(get(container, "resources.limits.memory")),
            "a read-only root file system": csc.get("readOnlyRootFilesystem") is True,
            "no privilege escalation": csc.get("allowPrivilegeEscalation") is False,
            "every capability dropped": get(csc, "capabilities.drop") == ["ALL"],
            "a non-root user": get(pod, "securityContext.runAsNonRoot") is True and
                               (get(pod, "securityContext.runAsUser") or 0) > 0,
            "an explicit shard count (shards hold memory; a pod sees every node CPU)": "-shards" in args,
        }
        for what, ok in demands.items():
            if not ok:
                errors.append(f"production: needs {what}")
        if corefile is not None:
            for needle, what in (("health", "/health"), ("ready", "/ready"), ("prometheus", "/metrics")):
                if needle not in corefile:
                    errors.append(f"production: the Corefile serves no {what} ({needle} directive)")
            health_port = get(container, "livenessProbe.httpGet.port")
            named = {name: number for name, number, _ in ports}
            for directive, probe_port in (("health :", health_port), ("ready :", get(container, "readinessProbe.httpGet.port"))):
                number = named.get(probe_port, probe_port)
                if f"{directive}{number}" not in corefile:
                    errors.append(f"production: the probe's port {probe_port} is not where the Corefile's {directive.strip(' :')} listens")
    return report()


def report():
    for e in errors:
        print(f"FAIL: {e}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
