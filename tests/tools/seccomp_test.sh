#!/usr/bin/env bash
# ringdns where io_uring is refused, as under a container runtime's default seccomp
# profile (seccomp_run.py: io_uring_setup answers EPERM): with no flag and no
# configuration change it starts on epoll, says so and why in its start-up line and in
# the metrics, and serves UDP, TCP and DNS over TLS. Asked for io_uring there (-io
# io_uring), it refuses to start with a message that names the way out. Where only
# io_uring_register is refused, it finds that at start and runs on epoll too.
# Usage: seccomp_test.sh PATH_TO_RINGDNS
set -u
. "$(dirname "$0")/lib_tool_test.sh" "$1"
. "$root/tests/tools/lib_pki.sh"
for tool in dig kdig curl openssl /usr/sbin/nsd; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done
/usr/bin/python3 -c 'import seccomp' 2>/dev/null || { echo "SKIP: python3-seccomp is not installed"; exit 77; }
without_io_uring=("/usr/bin/python3" "$root/tests/tools/seccomp_run.py" --refuse-io-uring)

pki_init "$work/pki"
pki_ca ca
pki_signed server ca 2 "DNS:dns.test,IP:127.0.0.1"

base=$(port_block 4)
nsd_port=$base dns_port=$((base + 1)) tls_port=$((base + 2)) metrics_port=$((base + 3))
start_nsd remote "$nsd_port" remote.svc.cluster.local. "$root/examples/zones/remote.svc.cluster.local.zone"
cat >"$work/Corefile" <<COREFILE
.:$dns_port {
  bind 127.0.0.1
  forward . 127.0.0.1:$nsd_port
  cache 30
  prometheus 127.0.0.1:$metrics_port
}
tls://.:$tls_port {
  bind 127.0.0.1
  tls $pki/server.pem $pki/server.key
  forward . 127.0.0.1:$nsd_port
}
COREFILE

# Asked for io_uring where it is refused: no start, and the message says what to do.
timeout 20 "${without_io_uring[@]}" "$ringdns" -conf "$work/Corefile" -shards 1 -io io_uring >"$work/forced.log" 2>&1
check "-io io_uring under the filter exits 1" test $? -eq 1
check "... and says io_uring is forbidden and how to run anyway" \
  grep -q 'io_uring set-up failed: Operation not permitted (io_uring is forbidden here: run with -io auto or -io epoll' "$work/forced.log"

"${without_io_uring[@]}" "$ringdns" -conf "$work/Corefile" -shards 2 2>"$work/ringdns.log" &
ringdns_pid=$!
pids+=("$ringdns_pid")
srv=_couchbase._tcp.cb-example-srv.remote.svc.cluster.local
udp() { dig @127.0.0.1 -p "$dns_port" +tries=1 +timeout=2 "$@" 2>&1; }
served() {  # until it answers, while it lives
  local _
  for _ in $(seq 1 100); do
    kill -0 "$ringdns_pid" 2>/dev/null || return 1
    udp +timeout=1 "$srv" SRV | grep -q 'status: NOERROR' && return 0
    sleep 0.1
  done
  return 1
}
check "it starts and answers with io_uring refused" served
check "the start-up line names epoll and why" \
  grep -q 'on 2 shards (epoll, because io_uring_setup was refused: Operation not permitted)' "$work/ringdns.log"
check "UDP: the SRV answer arrives" grep -q '11210 10-1-17-231.cb-example-srv' <<<"$(udp "$srv" SRV)"
check "TCP: the SRV answer arrives" grep -q '11210 10-1-17-231.cb-example-srv' <<<"$(udp +tcp "$srv" SRV)"
tls_out=$(kdig @127.0.0.1 -p "$tls_port" +tls-ca="$pki/ca.pem" +tls-hostname=dns.test +timeout=2 +retry=0 "$srv" SRV 2>&1)
check "DNS over TLS: the SRV answer arrives" grep -q '11210 10-1-17-231.cb-example-srv' <<<"$tls_out"
# Many queries at once, over one TCP connection and over UDP: nothing lost.
tcp_many=$(udp +tcp +keepopen "$srv" SRV "$srv" SRV "$srv" SRV "$srv" SRV | grep -c 'status: NOERROR')
check "TCP: four queries on one connection, four answers ($tcp_many)" test "$tcp_many" -eq 4
metrics=$(curl -s "http://127.0.0.1:$metrics_port/metrics")
check "the metrics label the backend epoll" grep -q '^ringdns_io_backend_info{backend="epoll"} 1' <<<"$metrics"
check "the cache answered a repeat" grep -qE '^coredns_cache_hits_total\{.*\} [1-9]' <<<"$metrics"

kill -TERM "$ringdns_pid"
wait "$ringdns_pid"
check "ringdns exits 0 on SIGTERM" test $? -eq 0
pids=("${pids[@]/$ringdns_pid/}")  # waited for: its PID is no longer ours to kill

# A hand-made profile that allows io_uring_setup but refuses io_uring_register (which
# buffer rings need): found at start, before anything is queued, and epoll runs.
"/usr/bin/python3" "$root/tests/tools/seccomp_run.py" --refuse io_uring_register \
  "$ringdns" -conf "$work/Corefile" -shards 1 2>"$work/register.log" &
ringdns_pid=$!
pids+=("$ringdns_pid")
check "with io_uring_register refused, it starts and answers" served
check "... on epoll, and says why" \
  grep -q 'on 1 shards (epoll, because io_uring_register was refused: Operation not permitted)' "$work/register.log"
check "... TCP too" grep -q '11210 10-1-17-231.cb-example-srv' <<<"$(udp +tcp "$srv" SRV)"
kill -TERM "$ringdns_pid"
wait "$ringdns_pid"
check "... and exits 0 on SIGTERM" test $? -eq 0
pids=("${pids[@]/$ringdns_pid/}")
[ "$failures" -eq 0 ] || { cat "$work/ringdns.log"; exit 1; }
