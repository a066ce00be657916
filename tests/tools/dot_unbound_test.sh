#!/usr/bin/env bash
# ringdns forwarding over DNS over TLS to a third-party DoT server: Unbound with
# tls-service, in front of nsd. The SRV answer arrives; a dnsperf run shares one or two
# pipelined TLS connections with nothing lost; a reconnect resumes the TLS session
# (Unbound's session tickets); a wrong server name fails with SERVFAIL and a log line.
# Everything runs in a network namespace of its own with only a loopback interface, so
# Unbound, a recursive resolver, has nowhere else to send a query.
# Usage: dot_unbound_test.sh PATH_TO_RINGDNS (exits 77 to be skipped)
set -u
ringdns=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
for tool in dig dnsperf openssl unshare /usr/sbin/unbound /usr/sbin/nsd; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done
if [ -z "${RINGDNS_PRIVATE_NETWORK:-}" ]; then
  RINGDNS_PRIVATE_NETWORK=1 exec unshare --net "$0" "$@" ||
    { echo "SKIP: no network namespace (needs root)"; exit 77; }
fi
ip link set lo up
. "$root/tools/lib_loopback.sh"
loopback_init
. "$root/tests/tools/lib_check.sh"
. "$root/tests/tools/lib_pki.sh"
pki_init "$work/pki"
pki_ca ca
pki_signed unbound ca 2 "DNS:dns.test,IP:127.0.0.1"
head -c 80 /dev/urandom >"$work/ticket.key"

nsd_port=5301 tls_port=853 client_port=5353
start_nsd remote "$nsd_port" remote.svc.cluster.local. "$root/examples/zones/remote.svc.cluster.local.zone"
cat >"$work/unbound.conf" <<CONF
server:
  interface: 127.0.0.1@$tls_port
  tls-port: $tls_port
  tls-service-key: "$pki/unbound.key"
  tls-service-pem: "$pki/unbound.pem"
  tls-session-ticket-keys: "$work/ticket.key"
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "$work"
  pidfile: ""
  use-syslog: no
  logfile: "$work/unbound.log"
  verbosity: 1
  do-ip6: no
  access-control: 127.0.0.0/8 allow
  do-not-query-localhost: no
  module-config: "iterator"
  incoming-num-tcp: 100
stub-zone:
  name: "remote.svc.cluster.local."
  stub-addr: 127.0.0.1@$nsd_port
remote-control:
  control-enable: no
CONF
start_bg /usr/sbin/unbound -d -c "$work/unbound.conf"

cat >"$work/Corefile" <<COREFILE
remote.svc.cluster.local:$client_port {
  bind 127.0.0.1
  forward . tls://127.0.0.1:$tls_port {
    tls $pki/ca.pem
    tls_servername dns.test
    expire 1s
  }
}
remote.svc.cluster.local:$((client_port + 1)) {
  bind 127.0.0.1
  forward . tls://127.0.0.1:$tls_port {
    tls $pki/ca.pem
    tls_servername wrong.test
    max_connect_attempts 2
  }
}
COREFILE
"$ringdns" -conf "$work/Corefile" -shards 1 2>"$work/ringdns.log" &
ringdns_pid=$!
pids+=("$ringdns_pid")
ask() { dig @127.0.0.1 -p "$1" +tries=1 +timeout=3 "${@:2}" 2>&1; }
for _ in $(seq 1 50); do ask "$client_port" cb-example-srv.remote.svc.cluster.local A | grep -q NOERROR && break; sleep 0.1; done

out=$(ask "$client_port" _couchbase._tcp.cb-example-srv.remote.svc.cluster.local SRV)
check "through Unbound over TLS: the SRV answer" grep -q 'status: NOERROR' <<<"$out"
check "with its three records" test "$(grep -cE '^_couchbase.*IN[[:space:]]+SRV' <<<"$out")" -eq 3
printf '%s\n' "cb-example-srv.remote.svc.cluster.local. A" "_couchbase._tcp.cb-example-srv.remote.svc.cluster.local. SRV" \
  "missing.remote.svc.cluster.local. A" >"$work/queries"
dnsperf -s 127.0.0.1 -p "$client_port" -d "$work/queries" -l 3 -Q 2000 -b 4096 >"$work/dnsperf.out" 2>&1
check "3 s of dnsperf through Unbound's DoT: nothing lost" grep -q 'Queries lost:         0 ' "$work/dnsperf.out"
sleep 1.5  # past `expire 1s`: the next query reconnects and resumes the session
ask "$client_port" cb-example-srv.remote.svc.cluster.local A >/dev/null
out=$(ask $((client_port + 1)) cb-example-srv.remote.svc.cluster.local A)
check "a wrong server name: SERVFAIL, never an answer" grep -q 'status: SERVFAIL' <<<"$out"
check "and a log line that says why" \
  grep -q "DNS over TLS to upstream 127.0.0.1:$tls_port failed: .*certificate verify failed" "$work/ringdns.log"
kill -TERM "$ringdns_pid"
wait "$ringdns_pid"
check_tls_reuse "$work/ringdns.log" "$work/dnsperf.out" 4 Unbound

[ "$failures" -eq 0 ] || { cat "$work/ringdns.log" "$work/unbound.log" "$work/dnsperf.out"; exit 1; }
