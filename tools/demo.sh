#!/usr/bin/env bash
# The README's run command: builds ringdns and runs the tutorial on loopback. Two real
# nsd servers stand in for the remote cluster's DNS (remote.svc.cluster.local.) and the
# local cluster DNS (cluster.local.); ringdns runs the tutorial's Corefile in front of
# them (examples/loopback.Corefile) and dig shows the answers. Nothing leaves 127.0.0.1.
# Every process started here is stopped by PID on exit. Set DEMO_KEEP=1 to keep ringdns
# running until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
tools/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target ringdns

. tools/lib_loopback.sh
loopback_init

start_nsd remote 5301 remote.svc.cluster.local. "$root/examples/zones/remote.svc.cluster.local.zone"
start_nsd local 5302 cluster.local. "$root/examples/zones/cluster.local.zone"
start_bg build/release/tools/ringdns -conf examples/loopback.Corefile

ask() { echo; echo "\$ dig @127.0.0.1 -p 5353 $*"; dig @127.0.0.1 -p 5353 +tries=1 +timeout=2 "$@" | grep -vE '^;; (WARNING|You are currently)|^$'; }
for _ in $(seq 1 50); do
  dig @127.0.0.1 -p 5353 +tries=1 +timeout=1 kubernetes.default.svc.cluster.local A >/dev/null 2>&1 && break
  sleep 0.1
done
ask _couchbase._tcp.cb-example-srv.remote.svc.cluster.local. SRV
ask kubernetes.default.svc.cluster.local. A +short
ask missing.remote.svc.cluster.local. A +noall +comments
ask example.com. A +noall +comments
echo
echo "The SRV answer came from the 'remote' nsd, kubernetes.default from the 'local' one."
echo "example.com went to the local nsd too (the '.' block), which is authoritative only for"
echo "cluster.local. and says REFUSED; a real cluster DNS would resolve it."
if [ "${DEMO_KEEP:-0}" = 1 ]; then
  echo "ringdns keeps running on 127.0.0.1:5353; Ctrl-C stops everything."
  wait
fi
