#!/usr/bin/env bash
# The deployment files, checked offline: the Kubernetes manifests (fields, selectors,
# ports, probes, the mounted Corefile, production properties; a broken copy must
# fail), their Corefiles through `ringdns -validate`, the systemd unit through
# `systemd-analyze verify`, and the Dockerfile's runtime packages against what the
# binary links.
# Usage: packaging_test.sh PATH_TO_RINGDNS
set -u
ringdns=$(readlink -f "$1")
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. "$root/tests/tools/lib_check.sh"
python=/usr/bin/python3
$python -c 'import yaml' 2>/dev/null || { echo "SKIP: python3-yaml is not installed"; exit 0; }
checker="$root/tests/tools/check_manifests.py"
k8s="$root/deploy/kubernetes"

mkdir -p "$work/tutorial" "$work/production"
check "tutorial.yaml passes the manifest checks" $python "$checker" "$k8s/tutorial.yaml" "$work/tutorial"
validates() { "$ringdns" -conf "$1" -validate >"$work/validate.out" 2>&1; }
check "tutorial.yaml's Corefile validates" validates "$work/tutorial/Corefile"
check "tutorial.yaml keeps the tutorial's Corefile" grep -q 'forward . 10.1.17.2 10.1.46.2' "$work/tutorial/Corefile"
check "production.yaml passes the production checks" \
  $python "$checker" --production "$k8s/production.yaml" "$work/production"
check "production.yaml's Corefile validates" validates "$work/production/Corefile"
for cluster in 1 2; do  # DNS over TLS between the clusters (the e2e test runs their Corefiles)
  mkdir -p "$work/dot-cluster$cluster"
  check "dot-cluster$cluster.yaml passes the production checks" \
    $python "$checker" --production "$k8s/dot-cluster$cluster.yaml" "$work/dot-cluster$cluster"
  check "dot-cluster$cluster.yaml's Corefile validates" validates "$work/dot-cluster$cluster/Corefile"
done
# The checker must catch what it claims to: a misspelt field, a wrong selector, a
# probe on a port the container lacks, and the tutorial held to production demands.
mutate() {  # NAME SED-EXPRESSION [MANIFEST]: a broken copy of it (production.yaml) must fail
  sed "$2" "$k8s/${3:-production.yaml}" >"$work/$1.yaml"
  ! $python "$checker" --production "$work/$1.yaml" "$work" >"$work/$1.out" 2>&1
}
check "a misspelt field is caught" mutate typo 's/readinessProbe:/readinesProbe:/'
check "a Service selecting nothing is caught" mutate selector '/^kind: Service/,$ s/^    app: ringdns/    app: other/'
check "a probe on a missing port is caught" mutate probe 's/port: ready$/port: readyz/'
check "maxUnavailable 1 is caught" mutate surge 's/maxUnavailable: 0/maxUnavailable: 1/'
check "a writable root file system is caught" mutate rootfs 's/readOnlyRootFilesystem: true/readOnlyRootFilesystem: false/'
check "a secret mounted inside the Corefile's volume is caught" \
  mutate nested 's#mountPath: /etc/ringdns/tls#mountPath: /etc/coredns/tls#' dot-cluster1.yaml
check "a certificate from no mounted secret is caught" mutate unmounted 's#tls /etc/ringdns/tls/#tls /etc/ssl/#' dot-cluster2.yaml
check "a DNS-over-TLS Service without port 853 is caught" mutate dot-port 's/port: 853$/port: 8853/' dot-cluster2.yaml
check "an Unconfined seccomp profile is caught (restricted forbids it)" \
  mutate unconfined 's/type: RuntimeDefault/type: Unconfined/'
check "a Localhost seccomp profile with no file named is caught" mutate localhost 's/type: RuntimeDefault/type: Localhost/'
check "a container that may escalate privileges is caught" mutate escalate 's/allowPrivilegeEscalation: false/allowPrivilegeEscalation: true/'
check "the tutorial is held to the restricted Pod Security Standard too" sh -c \
  "sed 's/type: RuntimeDefault/type: Unconfined/' '$k8s/tutorial.yaml' >'$work/tutorial-unconfined.yaml' && ! $python '$checker' '$work/tutorial-unconfined.yaml' '$work' >/dev/null"
check "the tutorial is not production-ready" sh -c "! $python '$checker' --production '$k8s/tutorial.yaml' '$work' >/dev/null"

# systemd: the unit as shipped, pointing at this build's binary.
if command -v systemd-analyze >/dev/null; then
  sed "s|/usr/local/bin/ringdns|$ringdns|" "$root/deploy/systemd/ringdns.service" >"$work/ringdns.service"
  systemd-analyze verify "$work/ringdns.service" >"$work/verify.out" 2>&1
  check "systemd-analyze verify finds nothing in the unit" test ! -s "$work/verify.out"
  check "the unit drops to a user and reloads with SIGHUP" \
    sh -c "grep -q -- '-user ringdns' '$work/ringdns.service' && grep -q 'ExecReload=/bin/kill -HUP' '$work/ringdns.service'"
else
  echo "skip: systemd-analyze is not installed"
fi

# Docker: the runtime stage installs the packages of every library the binary links
# beyond debian:12-slim's own, and nothing else.
dockerfile="$root/deploy/docker/Dockerfile"
base="libc6 libgcc-s1 libstdc++6 zlib1g"  # in debian:12-slim already (required/apt's)
package_of() {  # a library's Debian package (merged /usr: dpkg may know either path)
  local real; real=$(readlink -f "$1")
  dpkg -S "$real" 2>/dev/null || dpkg -S "/usr$real" 2>/dev/null || dpkg -S "${real#/usr}" 2>/dev/null ||
    echo "unknown-package-of-$1:"
}
needed=$(ldd "$ringdns" | awk '$3 ~ /^\// {print $3}' | while read -r lib; do package_of "$lib"; done |
  cut -d: -f1 | sort -u | grep -vxF -f <(tr ' ' '\n' <<<"$base") | tr '\n' ' ')
listed=$(awk '/^FROM debian:12-slim/ {runtime = 1} runtime && /apt-get install/ {go = 1} go {print} go && !/\\$/ {go = 0}' "$dockerfile" |
  tr ' \\' '\n\n' | grep -E '^lib[a-z0-9.+-]+$' | sort -u | tr '\n' ' ')
if ldd "$ringdns" | grep -qE 'lib(asan|ubsan|tsan)'; then
  echo "skip: a sanitizer build links its runtimes; the image is built from Release (checked there)"
else
  check "the runtime packages match the binary's libraries ($needed)" test "$needed" = "$listed"
fi
check "the image runs as a numeric non-root user" grep -qE '^USER [1-9][0-9]*:[1-9][0-9]*$' "$dockerfile"
check "the image is built on Debian 12 in two stages" \
  sh -c "grep -q '^FROM debian:12 AS build' '$dockerfile' && grep -q '^COPY --from=build' '$dockerfile'"
[ "$failures" -eq 0 ] || { cat "$work"/*.out 2>/dev/null; exit 1; }
