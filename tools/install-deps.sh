#!/usr/bin/env bash
# Installs everything ringdns needs to build, test, fuzz and benchmark on Debian 12.
# Idempotent: packages already present are left alone; safe to run again.
#   --binary-only   just what building the ringdns binary needs (the container build)
#   --bench         also the peers bench/harness/peers.sh measures against, and gnuplot
set -euo pipefail

binary_packages=(
  build-essential cmake ninja-build pkg-config
  liburing-dev libabsl-dev libmimalloc-dev libcpp-httplib-dev libssl-dev
  libfstrm-dev libprotobuf-c-dev protobuf-c-compiler   # dnstap
  libre2-dev                                          # template's regexes
)
build_packages=(
  "${binary_packages[@]}"
  clang libclang-rt-14-dev          # libFuzzer and clang's sanitizer runtimes
  clang-format-14                   # tools/check_format.sh
  libgtest-dev libgmock-dev libbenchmark-dev
)
# Real DNS peers for integration tests and the demo: dig, kdig, nsd, knot (a second
# authoritative server, with DNS cookies), dnsperf; promtool
# (from prometheus) checks the /metrics text; python3-yaml and systemd-analyze check
# the deployment files; iproute2 builds the end-to-end test's network namespaces and
# nftables its Service address (kube-proxy's DNAT; only inside that namespace);
# unbound is a third-party DNS-over-TLS server for the interop test; python3-seccomp
# refuses io_uring to ringdns as a container's default seccomp profile does; fstrm-bin's
# fstrm_capture is a dnstap collector (dnstap-read, in bind9-dnsutils, decodes it).
peer_packages=(bind9-dnsutils knot-dnsutils nsd knot dnsperf prometheus curl python3-yaml systemd iproute2
               nftables unbound python3-seccomp fstrm-bin)

# The forwarders users compare ringdns with (their services are stopped below).
bench_packages=(dnsdist knot-resolver dnsmasq-base gnuplot-nox)

wanted=("${build_packages[@]}" "${peer_packages[@]}")
[ "${1:-}" = "--binary-only" ] && wanted=("${binary_packages[@]}")
[ "${1:-}" = "--bench" ] && wanted+=("${bench_packages[@]}")
missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all ${#wanted[@]} packages present"
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
# Debian enables nsd's and knot's own services on install; ringdns's tests start their
# own instances. Likewise prometheus (only its promtool is wanted) and unbound (the test
# runs its own in a private network namespace; the system resolver stays what it was).
for service in nsd knot prometheus prometheus-node-exporter unbound dnsdist kresd@1; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$service" 2>/dev/null; then
    $SUDO systemctl stop "$service" || true
  fi
done
