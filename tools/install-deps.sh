#!/usr/bin/env bash
# Installs everything ringdns needs to build, test, fuzz and benchmark on Debian 12.
# Idempotent: packages already present are left alone; safe to run again.
set -euo pipefail

build_packages=(
  build-essential cmake ninja-build pkg-config
  clang libclang-rt-14-dev          # libFuzzer and clang's sanitizer runtimes
  liburing-dev libabsl-dev libmimalloc-dev libcpp-httplib-dev
  libgtest-dev libgmock-dev libbenchmark-dev libssl-dev
)
# Real DNS peers for integration tests and the demo: dig, kdig, nsd, dnsperf; promtool
# (from prometheus) checks the /metrics text.
peer_packages=(bind9-dnsutils knot-dnsutils nsd dnsperf prometheus curl)

wanted=("${build_packages[@]}" "${peer_packages[@]}")
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
# Debian enables nsd's own service on install; ringdns's tests start their own instances.
# Likewise prometheus: only its promtool is wanted.
for service in nsd prometheus prometheus-node-exporter; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$service" 2>/dev/null; then
    $SUDO systemctl stop "$service" || true
  fi
done
