#!/usr/bin/env bash
# An idle ringdns sleeps. With every part that runs on its own configured (two shards, a
# cache, log and errors, health, ready and prometheus endpoints, a health-checked
# forward to nsd on loopback, a DNS-over-TLS listener) and a client's TCP connection
# held open, once the queries
# are answered all its threads together wake up fewer than 10 times a second (each shard
# alone used to wake 250 times a second on a 4 ms tick). The rate is taken over the time
# that really passed, so a slow machine cannot fail it. A query asked after the idle
# spell is answered and logged (shard and logger woke for it), and SIGTERM stops it.
# Usage: idle_wakeups_test.sh PATH_TO_RINGDNS
set -u
. "$(dirname "$0")/lib_tool_test.sh" "$1"
. "$root/tests/tools/lib_pki.sh"
for tool in dig openssl /usr/sbin/nsd; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done
trap loopback_cleanup EXIT

pki_init "$work/pki"
pki_ca ca
pki_signed server ca 2 "DNS:dns.test,IP:127.0.0.1"
nsd_port=$(port_block 6)
dns_port=$((nsd_port + 1))
start_nsd remote "$nsd_port" remote.svc.cluster.local. "$root/examples/zones/remote.svc.cluster.local.zone"
cat >"$work/Corefile" <<COREFILE
remote.svc.cluster.local:$dns_port {
  bind 127.0.0.1
  log
  errors
  cache 30
  forward . 127.0.0.1:$nsd_port {
    health_check 100ms
  }
}
.:$dns_port {
  bind 127.0.0.1
  health 127.0.0.1:$((nsd_port + 2))
  ready 127.0.0.1:$((nsd_port + 3))
  prometheus 127.0.0.1:$((nsd_port + 4))
  forward . 127.0.0.1:$nsd_port
}
tls://.:$((nsd_port + 5)) {
  bind 127.0.0.1
  tls $pki/server.pem $pki/server.key
  forward . 127.0.0.1:$nsd_port
}
COREFILE
"$ringdns" -conf "$work/Corefile" -shards 2 >"$work/ringdns.out" 2>"$work/ringdns.log" &
ringdns_pid=$!
pids+=("$ringdns_pid")
ask() { dig @127.0.0.1 -p "$dns_port" +tries=1 +timeout=1 "$@"; }
answers() { ask "$1" A 2>/dev/null | grep -q 'status: NOERROR'; }
check "serves" eventually answers cb-example-srv.remote.svc.cluster.local
for i in $(seq 1 20); do ask "n$i.remote.svc.cluster.local" A >/dev/null 2>&1; done
ask +tcp cb-example-srv.remote.svc.cluster.local A >/dev/null 2>&1
exec 3<>"/dev/tcp/127.0.0.1/$dns_port"  # a client connection left open, idle
sleep 1  # the last answers' sends and the logger's last batch settle

# Context switches of every thread: each is one wake-up of a thread that slept.
switches() {
  cat /proc/"$ringdns_pid"/task/*/status 2>/dev/null |
    awk '/^(voluntary|nonvoluntary)_ctxt_switches:/ {n += $2} END {print n + 0}'
}
uptime_ms() { awk '{printf "%d", $1 * 1000}' /proc/uptime; }
before=$(switches); t0=$(uptime_ms)
sleep 3
after=$(switches); t1=$(uptime_ms)
elapsed_ms=$((t1 - t0))
rate=$(( (after - before) * 1000 / (elapsed_ms > 0 ? elapsed_ms : 1) ))
echo "idle: $((after - before)) wake-ups in $elapsed_ms ms ($rate per second, all threads)"
check "idle: fewer than 10 wake-ups per second ($rate)" test "$rate" -lt 10
exec 3>&-

lines() { grep -c 'cb-example-srv.remote.svc.cluster.local. udp' "$work/ringdns.out"; }
lines_before=$(lines)
check "a query after the idle spell is answered" answers cb-example-srv.remote.svc.cluster.local
logged() { [ "$(lines)" -gt "$lines_before" ]; }
check "and logged" eventually logged
kill -TERM "$ringdns_pid"
wait "$ringdns_pid"
check "exits 0 on SIGTERM" test $? -eq 0
[ "$failures" -eq 0 ] || { cat "$work/ringdns.log"; tail -5 "$work/ringdns.out"; exit 1; }
