#!/usr/bin/env bash
# ringdns forwarding over DNS over TLS with mutual TLS, to ringdns's own TLS listener
# (require_and_verify) in front of nsd: the tutorial's production link. Answers arrive,
# many queries share one pipelined connection, a reconnect resumes the TLS session;
# and a wrong CA, a wrong server name, an expired server certificate and a missing
# client certificate each fail with a clear log line and SERVFAIL, never an answer.
# Usage: dot_upstream_test.sh PATH_TO_RINGDNS
set -u
. "$(dirname "$0")/lib_tool_test.sh" "$1"
. "$root/tests/tools/lib_pki.sh"
for tool in dig dnsperf openssl /usr/sbin/nsd; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 0; }
done
pki_init "$work/pki"
pki_ca ca
pki_ca other-ca
pki_signed server ca 2 "DNS:dns.test,IP:127.0.0.1"
pki_signed expired-server ca -1 "DNS:dns.test,IP:127.0.0.1"
pki_signed client ca 2

base=$(port_block 11)
nsd_port=$base
start_nsd remote "$nsd_port" remote.svc.cluster.local. "$root/examples/zones/remote.svc.cluster.local.zone"
# The remote side: DNS over TLS, client certificates required and verified.
server() {  # PORT CERT
  cat >"$work/server-$1" <<COREFILE
tls://.:$1 {
  bind 127.0.0.1
  tls $pki/$2.pem $pki/$2.key $pki/ca.pem {
    client_auth require_and_verify
  }
  forward . 127.0.0.1:$nsd_port
}
COREFILE
  "$ringdns" -conf "$work/server-$1" -shards 1 2>"$work/server-$1.log" &
  pids+=($!)
}
server $((base + 1)) server
server $((base + 2)) expired-server
# The local side: plain DNS to clients, DNS over TLS upstream; one block per case.
client_block() {  # PORT TLS-PORT TLS-OPTIONS...
  local port=$1 tls_port=$2; shift 2
  printf '.:%s {\n  bind 127.0.0.1\n  forward . tls://127.0.0.1:%s {\n' "$port" "$tls_port"
  printf '    %s\n' "$@"
  printf '    read_timeout 500ms\n    expire 1s\n  }\n}\n'
}
good="tls $pki/client.pem $pki/client.key $pki/ca.pem"
client_block $((base + 3)) $((base + 1)) "$good" "tls_servername dns.test" >"$work/client"
"$ringdns" -conf "$work/client" -shards 1 2>"$work/client.log" &
client_pid=$!
pids+=("$client_pid")
ask() { dig @127.0.0.1 -p "$1" +tries=1 +timeout=3 "${@:2}" 2>&1; }
for _ in $(seq 1 50); do ask $((base + 3)) cb-example-srv.remote.svc.cluster.local A | grep -q NOERROR && break; sleep 0.1; done

out=$(ask $((base + 3)) _couchbase._tcp.cb-example-srv.remote.svc.cluster.local SRV)
check "mutual TLS: the SRV answer arrives" grep -q 'status: NOERROR' <<<"$out"
check "with its three records" test "$(grep -cE '^_couchbase.*IN[[:space:]]+SRV' <<<"$out")" -eq 3
printf '%s\n' "cb-example-srv.remote.svc.cluster.local. A" "_couchbase._tcp.cb-example-srv.remote.svc.cluster.local. SRV" \
  >"$work/queries"
dnsperf -s 127.0.0.1 -p $((base + 3)) -d "$work/queries" -l 3 -Q 2000 -b 4096 >"$work/dnsperf.out" 2>&1
check "3 s of dnsperf over the TLS upstream: nothing lost" grep -q 'Queries lost:         0 ' "$work/dnsperf.out"
sleep 1.5  # past `expire 1s`: the connection closes; the next one resumes the session
ask $((base + 3)) cb-example-srv.remote.svc.cluster.local A >/dev/null
kill -TERM "$client_pid"
wait "$client_pid"
check_tls_reuse "$work/client.log" "$work/dnsperf.out" 3 "the ringdns endpoint"

# What must fail: two attempts each, then SERVFAIL.
{
  client_block $((base + 4)) $((base + 1)) "tls $pki/client.pem $pki/client.key $pki/other-ca.pem" \
    "tls_servername dns.test" "max_connect_attempts 2"
  client_block $((base + 5)) $((base + 1)) "$good" "tls_servername wrong.test" "max_connect_attempts 2"
  client_block $((base + 6)) $((base + 2)) "$good" "tls_servername dns.test" "max_connect_attempts 2"
  client_block $((base + 7)) $((base + 1)) "tls $pki/ca.pem" "tls_servername dns.test" "max_connect_attempts 2"
} >"$work/failing"
"$ringdns" -conf "$work/failing" -shards 1 2>"$work/failing.log" &
failing_pid=$!
pids+=("$failing_pid")
eventually grep -q serving "$work/failing.log"
for case in "$((base + 4)):a client trusting another CA" "$((base + 5)):a wrong server name" \
            "$((base + 6)):an expired server certificate" "$((base + 7)):no client certificate"; do
  port=${case%%:*}
  out=$(ask "$port" cb-example-srv.remote.svc.cluster.local A)
  check "${case#*:}: SERVFAIL, never an answer" grep -q 'status: SERVFAIL' <<<"$out"
done
check "the wrong CA is logged" grep -q 'DNS over TLS to upstream 127.0.0.1:.* failed: .*certificate verify failed' "$work/failing.log"
check "the refused client certificate is logged by the server" \
  grep -q 'DNS over TLS handshake failed: .*certificate' "$work/server-$((base + 1)).log"
kill -TERM "$failing_pid"
wait "$failing_pid"
check "refused handshakes are counted" grep -qE 'tls_handshake_failures=[1-9]' "$work/failing.log"
check "and were not retried in a storm" \
  test "$(grep -o 'upstream_tcp_connects=[0-9]*' "$work/failing.log" | cut -d= -f2)" -le 40
# Health over TLS: an upstream down at start is probed over TLS and comes back once a
# TLS server listens there.
late=$((base + 8)) metrics=$((base + 9)) probed=$((base + 10))
cat >"$work/probed" <<COREFILE
.:$probed {
  bind 127.0.0.1
  prometheus 127.0.0.1:$metrics
  forward . tls://127.0.0.1:$late {
    $good
    tls_servername dns.test
    max_fails 1
    health_check 200ms
    read_timeout 300ms
    max_connect_attempts 2
  }
}
COREFILE
"$ringdns" -conf "$work/probed" -shards 1 2>"$work/probed.log" &
probed_pid=$!
pids+=("$probed_pid")
eventually grep -q serving "$work/probed.log"
up_metric() { curl -s "http://127.0.0.1:$metrics/metrics" | grep "^ringdns_upstream_up{.*:$late\"}" | awk '{print $2}'; }
for i in $(seq 1 10); do
  [ "$(up_metric)" = 0 ] && break
  ask "$probed" "x$i.remote.svc.cluster.local" A >/dev/null
done
check "the unreachable TLS upstream is marked down" test "$(up_metric)" = 0
server "$late" server
for _ in $(seq 1 50); do [ "$(up_metric)" = 1 ] && break; sleep 0.1; done
check "a TLS probe brings it back once it listens" test "$(up_metric)" = 1
kill -TERM "$probed_pid"
wait "$probed_pid"

[ "$failures" -eq 0 ] || { cat "$work/client.log" "$work/failing.log" "$work"/server-*.log; exit 1; }
