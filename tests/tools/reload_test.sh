#!/usr/bin/env bash
# Reloading a running ringdns as an operator does: 50 SIGHUPs while dnsperf sends at a
# fixed rate (dnsperf must report no lost query), a broken Corefile that is refused
# while the old one keeps serving (and coredns_reload_failed_total counts it), SIGUSR1,
# and the `reload` directive picking up an edited Corefile by itself.
# Usage: reload_test.sh PATH_TO_RINGDNS
set -u
ringdns=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/tools/lib_loopback.sh"
loopback_init
for tool in dig dnsperf curl /usr/sbin/nsd; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 0; }
done
. "$root/tests/tools/lib_check.sh"

nsd_port=$(port_block 3)
dns_port=$((nsd_port + 1))
metrics_port=$((nsd_port + 2))
start_nsd remote "$nsd_port" remote.svc.cluster.local. "$root/examples/zones/remote.svc.cluster.local.zone"
write_corefile() {  # extra directives for the block
  cat >"$work/Corefile" <<COREFILE
.:$dns_port {
  bind 127.0.0.1
  prometheus 127.0.0.1:$metrics_port
  reload 2s 1s
  $1
  forward . 127.0.0.1:$nsd_port
}
COREFILE
}
write_corefile ""
"$ringdns" -conf "$work/Corefile" -shards 2 2>"$work/ringdns.log" &
ringdns_pid=$!
pids+=("$ringdns_pid")
ask() { dig @127.0.0.1 -p "$dns_port" +tries=1 +timeout=1 "$@"; }
for _ in $(seq 1 50); do
  ask cb-example-srv.remote.svc.cluster.local A >/dev/null 2>&1 && break
  sleep 0.1
done

# 20 s at 2 000 queries per second; a SIGHUP every 0.3 s meanwhile, alternating between
# a cached and an uncached configuration.
for name in _couchbase._tcp.cb-example-srv 10-1-17-231.cb-example-srv 10-1-46-20.cb-example-srv \
            cb-example-srv missing; do
  echo "$name.remote.svc.cluster.local. $([ "${name#_}" != "$name" ] && echo SRV || echo A)"
done >"$work/queries"
dnsperf -s 127.0.0.1 -p "$dns_port" -d "$work/queries" -l 20 -Q 2000 -t 5 -b 4096 >"$work/dnsperf.out" 2>&1 &
perf_pid=$!
pids+=("$perf_pid")
sleep 2
# Each SIGHUP waits for the previous reload to be logged: signals sent while one is
# still being handled coalesce (POSIX), which on a loaded machine made fewer reloads.
reloads() { grep -c 'SIGHUP: reloaded' "$work/ringdns.log"; }
for i in $(seq 1 50); do
  if [ $((i % 2)) -eq 1 ]; then write_corefile "cache 30"; else write_corefile ""; fi
  kill -HUP "$ringdns_pid"
  for _ in $(seq 1 100); do [ "$(reloads)" -ge "$i" ] && break; sleep 0.05; done
  sleep 0.2
done
wait "$perf_pid"
sent=$(awk '/Queries sent:/ {print $3}' "$work/dnsperf.out")
lost=$(awk '/Queries lost:/ {print $3}' "$work/dnsperf.out")
check "dnsperf sent queries during the reloads ($sent)" test "${sent:-0}" -gt 30000
check "no query lost across 50 reloads (lost: $lost)" test "${lost:-1}" -eq 0
check "50 reloads logged" test "$(reloads)" -eq 50

# A broken Corefile: refused with its position, the running configuration keeps serving.
printf '.:%s {\n  bind 127.0.0.1\n  forwrd . 127.0.0.1:%s\n}\n' "$dns_port" "$nsd_port" >"$work/Corefile"
kill -HUP "$ringdns_pid"
check "the broken Corefile is refused with file:line:column" \
  eventually grep -q "reload failed, still serving the previous configuration: $work/Corefile:3:3: unknown directive 'forwrd'" "$work/ringdns.log"
ask _couchbase._tcp.cb-example-srv.remote.svc.cluster.local SRV >"$work/dig.out" 2>&1
check "still answering after the failed reload" grep -q 'status: NOERROR' "$work/dig.out"
curl -s "http://127.0.0.1:$metrics_port/metrics" >"$work/metrics"
check "coredns_reload_failed_total counts it" grep -q '^coredns_reload_failed_total 1$' "$work/metrics"
answered=$(awk '/^coredns_dns_responses_total/ {sum += $2} END {print sum}' "$work/metrics")
check "response counters survived the reloads ($answered >= $sent)" test "${answered:-0}" -ge "${sent:-1}"

# SIGUSR1 reloads too; then the `reload` directive notices an edit by itself (2 s + up
# to 1 s of jitter): the new block answers REFUSED for a zone nobody forwards.
write_corefile "acl { block type TXT }"
kill -USR1 "$ringdns_pid"
check "SIGUSR1 reloads" eventually grep -q 'SIGUSR1: reloaded' "$work/ringdns.log"
ask cb-example-srv.remote.svc.cluster.local TXT >"$work/dig.out" 2>&1
check "the reloaded acl applies" grep -q 'status: REFUSED' "$work/dig.out"
write_corefile ""
check "the reload directive picked up the edit" eventually grep -q 'reload (the Corefile changed): reloaded' "$work/ringdns.log"
ask cb-example-srv.remote.svc.cluster.local TXT >"$work/dig.out" 2>&1
check "the edited Corefile applies" grep -q 'status: NOERROR' "$work/dig.out"

kill -TERM "$ringdns_pid"
wait "$ringdns_pid"
check "ringdns exits 0 on SIGTERM" test $? -eq 0
[ "$failures" -eq 0 ] || { cat "$work/dnsperf.out" "$work/ringdns.log"; exit 1; }
