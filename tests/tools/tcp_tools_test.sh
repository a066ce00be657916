#!/usr/bin/env bash
# DNS over TCP with the tools operators use: dig +tcp and kdig reusing one connection
# for several queries (+keepopen), through ringdns to a real nsd on loopback.
# Usage: tcp_tools_test.sh PATH_TO_RINGDNS
set -u
ringdns=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/tools/lib_loopback.sh"
loopback_init
for tool in dig kdig /usr/sbin/nsd; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 0; }
done
. "$root/tests/tools/lib_check.sh"

nsd_port=$(port_block 2)
dns_port=$((nsd_port + 1))
start_nsd remote "$nsd_port" remote.svc.cluster.local. "$root/examples/zones/remote.svc.cluster.local.zone"
cat >"$work/Corefile" <<COREFILE
.:$dns_port {
  bind 127.0.0.1
  forward . 127.0.0.1:$nsd_port
}
COREFILE
"$ringdns" -conf "$work/Corefile" -shards 1 2>"$work/ringdns.log" &
ringdns_pid=$!
pids+=("$ringdns_pid")
for _ in $(seq 1 50); do
  dig @127.0.0.1 -p "$dns_port" +tcp +tries=1 +timeout=1 cb-example-srv.remote.svc.cluster.local A >/dev/null 2>&1 && break
  sleep 0.1
done

srv=_couchbase._tcp.cb-example-srv.remote.svc.cluster.local.
dig @127.0.0.1 -p "$dns_port" +tcp +tries=1 +timeout=2 "$srv" SRV >"$work/dig.out" 2>&1
check "dig +tcp gets NOERROR" grep -q 'status: NOERROR' "$work/dig.out"
records() { grep -v '^;' "$1" | grep -cE "[[:space:]]IN[[:space:]]+$2[[:space:]]"; }
check "dig +tcp gets the three SRV records" test "$(records "$work/dig.out" SRV)" -eq 3
check "dig +tcp gets the pods' addresses" test "$(records "$work/dig.out" A)" -eq 3

kdig @127.0.0.1 -p "$dns_port" +tcp +keepopen +timeout=2 +retry=0 \
  "$srv" SRV cb-example-srv.remote.svc.cluster.local. A missing.remote.svc.cluster.local. A \
  >"$work/kdig.out" 2>&1
check "kdig: three answers on one connection" test "$(grep -c 'Received .* B' "$work/kdig.out")" -eq 3
check "kdig: the SRV set" test "$(records "$work/kdig.out" SRV)" -eq 3
check "kdig: the NXDOMAIN" grep -q 'status: NXDOMAIN' "$work/kdig.out"

kill -TERM "$ringdns_pid"
wait "$ringdns_pid"
check "ringdns exits 0 on SIGTERM" test $? -eq 0
# Warm-up probes each open a connection; kdig's three queries share one.
accepted=$(grep -o 'tcp_accepted=[0-9]*' "$work/ringdns.log" | cut -d= -f2)
queries=$(grep -o 'tcp_queries=[0-9]*' "$work/ringdns.log" | cut -d= -f2)
check "kdig's three queries came on one connection" test "$((queries - accepted))" -eq 2
[ "$failures" -eq 0 ] || { cat "$work/ringdns.log"; exit 1; }
