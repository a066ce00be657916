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

work=$(mktemp -d /tmp/ringdns-demo.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

start_nsd() {  # name port zone zonefile
  local name=$1 port=$2 zone=$3 file=$4
  mkdir -p "$work/$name"
  cat >"$work/$name/nsd.conf" <<CONF
server:
  ip-address: 127.0.0.1@$port
  zonesdir: "$work/$name"
  pidfile: ""
  database: ""
  zonelistfile: "$work/$name/zone.list"
  xfrdfile: "$work/$name/xfrd.state"
  username: ""
  logfile: "$work/$name/nsd.log"
  server-count: 1
  rrl-ratelimit: 0
remote-control:
  control-enable: no
zone:
  name: "$zone"
  zonefile: "$file"
CONF
  /usr/sbin/nsd -d -c "$work/$name/nsd.conf" &
  pids+=($!)
}

start_nsd remote 5301 remote.svc.cluster.local. "$root/examples/zones/remote.svc.cluster.local.zone"
start_nsd local 5302 cluster.local. "$root/examples/zones/cluster.local.zone"
build/release/tools/ringdns -conf examples/loopback.Corefile &
pids+=($!)

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
