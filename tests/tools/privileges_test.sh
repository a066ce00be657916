#!/usr/bin/env bash
# Privilege drop as an operator runs it: root binds a port below 1024, then -user
# nobody leaves every thread unprivileged (uid, capabilities, no_new_privs); queries
# and reloads still work; a reload that needs a new low port fails and keeps serving;
# an unknown user stops start-up.
# Usage: privileges_test.sh PATH_TO_RINGDNS
set -u
. "$(dirname "$0")/lib_tool_test.sh" "$1"
for tool in dig ss /usr/sbin/nsd; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 0; }
done
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 0; }
id nobody >/dev/null 2>&1 || { echo "SKIP: no user nobody"; exit 0; }

nsd_port=$(port_block 1)
free_low_port() {  # a port below 1024 nobody listens on, from the PID
  local p
  for p in $(seq $((600 + $$ % 300)) 1000); do
    ss -Hlnu "sport = :$p" | grep -q . || ss -Hlnt "sport = :$p" | grep -q . || { echo "$p"; return; }
  done
}
dns_port=$(free_low_port)
start_nsd remote "$nsd_port" remote.svc.cluster.local. "$root/examples/zones/remote.svc.cluster.local.zone"
write_corefile() {
  cat >"$work/Corefile" <<COREFILE
.:$dns_port {
  bind 127.0.0.1
  $1
  forward . 127.0.0.1:$nsd_port
}
$2
COREFILE
}
write_corefile "" ""
chmod 755 "$work"; chmod 644 "$work/Corefile"  # nobody re-reads it on reload
"$ringdns" -conf "$work/Corefile" -shards 2 -user nobody 2>"$work/ringdns.log" &
ringdns_pid=$!
pids+=("$ringdns_pid")
ask() { dig @127.0.0.1 -p "$dns_port" +tries=1 +timeout=1 "$@"; }
for _ in $(seq 1 50); do
  ask cb-example-srv.remote.svc.cluster.local A >/dev/null 2>&1 && break
  sleep 0.1
done
ask cb-example-srv.remote.svc.cluster.local A >"$work/dig.out" 2>&1
check "answers on port $dns_port (below 1024)" grep -q 'status: NOERROR' "$work/dig.out"
check "says it dropped to nobody" grep -q 'running as user nobody (uid 65534), no capabilities' "$work/ringdns.log"

thread_field() {  # FIELD: the distinct values of a /proc status field over every thread
  cat /proc/"$ringdns_pid"/task/*/status | awk -v f="$1:" '$1 == f {print $2, $3, $4, $5}' | sort -u
}
threads=$(ls /proc/"$ringdns_pid"/task | wc -l)
check "several threads to check ($threads)" test "$threads" -ge 4
check "every thread runs as uid 65534" test "$(thread_field Uid)" = "65534 65534 65534 65534"
check "every thread runs as gid 65534" test "$(thread_field Gid)" = "65534 65534 65534 65534"
check "no thread has a permitted capability" test "$(thread_field CapPrm)" = "0000000000000000   "
check "no thread has an effective capability" test "$(thread_field CapEff)" = "0000000000000000   "
check "no thread has an ambient capability" test "$(thread_field CapAmb)" = "0000000000000000   "
check "no_new_privs is set" test "$(thread_field NoNewPrivs)" = "1   "

write_corefile "cache 30" ""
kill -HUP "$ringdns_pid"
check "a reload as nobody works" eventually grep -q 'SIGHUP: reloaded' "$work/ringdns.log"
ask _couchbase._tcp.cb-example-srv.remote.svc.cluster.local SRV >"$work/dig.out" 2>&1
check "and serves after it" grep -q 'status: NOERROR' "$work/dig.out"

other_low=$((dns_port + 1))
write_corefile "cache 30" "example.test:$other_low {
  bind 127.0.0.1
  forward . 127.0.0.1:$nsd_port
}"
kill -HUP "$ringdns_pid"
check "a reload that needs a new low port fails with the reason" eventually grep -q 'reload failed.*Permission denied' "$work/ringdns.log"
ask _couchbase._tcp.cb-example-srv.remote.svc.cluster.local SRV >"$work/dig.out" 2>&1
check "and the running configuration keeps serving" grep -q 'status: NOERROR' "$work/dig.out"
kill -TERM "$ringdns_pid"
wait "$ringdns_pid"
check "ringdns exits 0 on SIGTERM" test $? -eq 0

write_corefile "" ""
"$ringdns" -conf "$work/Corefile" -user no-such-user-here >"$work/out" 2>&1; rc=$?
check "an unknown -user stops start-up with exit 1" test "$rc" -eq 1
check "and says why" grep -q -- '-user no-such-user-here: no such user' "$work/out"
[ "$failures" -eq 0 ] || { cat "$work/ringdns.log"; exit 1; }
