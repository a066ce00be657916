#!/usr/bin/env bash
# DNS over TLS, one pipelined connection versus a new connection per query, against
# ringdns's TLS listener (cache on, so the TLS path is what is measured): queries per
# second and ringdns's CPU microseconds per answered query, median of REPS runs.
#   pipelined:      dnsperf -m dot -c 1 -q 100 (one connection, 100 queries in flight)
#   per query:      a Python ssl client: connect, handshake (TLS 1.3, ECDSA P-256),
#                   one query, close; CLIENTS of them in parallel
#
#   bench/harness/dot_connections.sh [SECONDS] [REPS] [CLIENTS]
#
# Everything binds 127.0.0.1; every process is stopped by PID.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${1:-5}
reps=${2:-3}
clients=${3:-4}
ringdns=${RINGDNS:-$root/build/release/tools/ringdns}
for tool in dnsperf openssl python3 /usr/sbin/nsd; do
  command -v "$tool" >/dev/null || { echo "needs $tool" >&2; exit 2; }
done
. "$root/tools/lib_loopback.sh"
loopback_init
. "$root/tests/tools/lib_pki.sh"
pki_init "$work/pki"
pki_ca ca
pki_signed server ca 2 "DNS:dns.test,IP:127.0.0.1"

start_nsd upstream 5301 remote.svc.cluster.local. "$root/examples/zones/remote.svc.cluster.local.zone"
cat >"$work/Corefile" <<COREFILE
tls://.:5853 {
  bind 127.0.0.1
  tls $pki/server.pem $pki/server.key
  cache
  forward . 127.0.0.1:5301
}
COREFILE
start_bg "$ringdns" -conf "$work/Corefile" -shards 1
ringdns_pid=$last_pid
sleep 1
echo "cb-example-srv.remote.svc.cluster.local. A" >"$work/queries"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
tick=$(getconf CLK_TCK)
measure() {  # NAME COMMAND...: prints "qps us_per_query"; COMMAND prints answered queries
  local before after answered
  before=$(cpu_ticks "$ringdns_pid")
  answered=$("${@:2}")
  after=$(cpu_ticks "$ringdns_pid")
  awk -v n="$answered" -v s="$seconds" -v t=$((after - before)) -v hz="$tick" \
    'BEGIN { printf "%.0f %.1f\n", n / s, (n > 0 ? t / hz * 1e6 / n : 0) }'
}
pipelined() {
  dnsperf -m dot -s 127.0.0.1 -p 5853 -d "$work/queries" -l "$seconds" -c 1 -q 100 2>&1 |
    awk '/Queries completed:/ {print $3}'
}
per_query() {
  python3 - "$seconds" "$clients" "$pki/ca.pem" <<'PY'
import socket, ssl, struct, sys, threading, time
seconds, clients, ca = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
ctx = ssl.create_default_context(cafile=ca)
query = bytes.fromhex("abcd01000001000000000000") + b"".join(
    bytes([len(l)]) + l.encode() for l in "cb-example-srv.remote.svc.cluster.local".split(".")) + b"\x00\x00\x01\x00\x01"
framed = struct.pack(">H", len(query)) + query
done = [0] * clients
stop = time.time() + seconds
def run(i):
    while time.time() < stop:
        with socket.create_connection(("127.0.0.1", 5853)) as raw, ctx.wrap_socket(raw, server_hostname="dns.test") as s:
            s.sendall(framed)
            size = struct.unpack(">H", s.recv(2))[0]
            got = 0
            while got < size:
                got += len(s.recv(size - got))
            done[i] += 1
threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
for t in threads: t.start()
for t in threads: t.join()
print(sum(done))
PY
}
median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
for mode in pipelined per_query; do
  : >"$work/$mode"
  for _ in $(seq 1 "$reps"); do measure "$mode" "$mode" >>"$work/$mode"; done
  qps=$(cut -d' ' -f1 "$work/$mode" | median)
  us=$(cut -d' ' -f2 "$work/$mode" | median)
  echo "$mode: $qps queries/s, ringdns $us us CPU per query (median of $reps x ${seconds}s)"
done
