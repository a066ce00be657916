#!/usr/bin/env bash
# dnstap with real consumers: fstrm_capture (fstrm-bin) receives ringdns's Frame Streams
# on a Unix socket and on TCP, dnstap-read (bind9-dnsutils) decodes what it wrote.
# Checked: for a known set of queries over UDP, TCP and DoT, the count and types of
# messages (CQ/CR per client exchange, FQ/FR per upstream exchange), the protocols, the
# names with `full`, the addresses and ports, identity and version; that a collector
# absent at start or killed under load costs the clients nothing, and the stream resumes
# when it comes back;
# that a reload with the directive unchanged keeps the connection; that a collector
# that never answers the handshake holds neither the queries nor the shutdown.
# Usage: dnstap_test.sh PATH_TO_RINGDNS
set -u
. "$(dirname "$0")/lib_tool_test.sh" "$1"
. "$root/tests/tools/lib_pki.sh"
for tool in fstrm_capture dnstap-read dig kdig dnsperf openssl python3 /usr/sbin/nsd; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done

pki_init "$work/pki"
pki_ca ca
pki_signed server ca 2 "DNS:dns.test,IP:127.0.0.1"

base=$(port_block 6)
nsd_port=$base dns_port=$((base + 1)) dot_port=$((base + 2)) tcp_collector=$((base + 3)) cached_port=$((base + 4))
dead_port=$((base + 5))  # nothing listens there: an upstream that never answers
start_nsd remote "$nsd_port" remote.svc.cluster.local. "$root/examples/zones/remote.svc.cluster.local.zone"
sock=$work/tap.sock
cat >"$work/Corefile" <<EOF
.:$dns_port {
  bind 127.0.0.1
  dnstap unix://$sock full {
    identity test-identity
    version test-version
    extra test-extra
  }
  forward . 127.0.0.1:$nsd_port
}
dead.example:$dns_port {
  bind 127.0.0.1
  dnstap $sock full
  forward . 127.0.0.1:$dead_port
}
tls://.:$dot_port {
  bind 127.0.0.1
  tls $pki/server.pem $pki/server.key
  dnstap $sock full
  forward . 127.0.0.1:$nsd_port
}
.:$cached_port {
  bind 127.0.0.1
  dnstap tcp://localhost:$tcp_collector
  cache 30
  forward . 127.0.0.1:$nsd_port
}
EOF
cp "$work/Corefile" "$work/Corefile.orig"

capture() {  # NAME: fstrm_capture on the Unix socket into $work/NAME.fstrm
  rm -f "$sock"
  start_bg fstrm_capture -t protobuf:dnstap.Dnstap -u "$sock" -w "$work/$1.fstrm"
  capture_pid=$last_pid
  eventually test -S "$sock"
}
stop() {  # PID: stops a process this test started and waits for it (a capture flushes its file)
  kill -TERM "$1"
  wait "$1" 2>/dev/null
}
# The collector's ends of ringdns's connections (socket inodes), one a line.
connections() { ss -xH state established 2>/dev/null | awk -v s="$sock" '$4 == s {print $5}'; }
connected() { [ -n "$(connections)" ]; }
start_ringdns() {
  "$ringdns" -conf "$work/Corefile" -shards 2 2>>"$work/ringdns.log" &
  ringdns_pid=$!
  pids+=("$ringdns_pid")
  eventually answered_udp ready.remote.svc.cluster.local A
}
# ringdns hands over everything it tapped when it stops: fstrm flushes and closes.
stop_ringdns() {
  stop "$ringdns_pid"
  check "ringdns exits 0 on SIGTERM" test $? -eq 0
}
decode() { dnstap-read "$work/$1.fstrm" 2>/dev/null; }           # one line per message
decode_yaml() { dnstap-read -y "$work/$1.fstrm" 2>/dev/null; }   # every field
count() { decode "$1" | grep -c " $2 " || true; }
srv=_couchbase._tcp.cb-example-srv.remote.svc.cluster.local
ask_udp() { dig @127.0.0.1 -p "$dns_port" +tries=1 +time=2 "$@"; }
answered_udp() { ask_udp "$@" | grep -qE 'status: (NOERROR|NXDOMAIN)'; }

# 1. The known set, with both collectors there from the start.
day_before=$(date -u +%Y-%m-%d)
capture first
start_bg fstrm_capture -t protobuf:dnstap.Dnstap -a 127.0.0.1 -p "$tcp_collector" -w "$work/tcp.fstrm"
tcp_capture_pid=$last_pid
eventually bash -c "ss -Hlnt 'sport = :$tcp_collector' | grep -q ."
start_ringdns
check "ringdns connects to the Unix collector" eventually connected
check "ringdns connects to the TCP collector" eventually bash -c "ss -Hnt state established 'dport = :$tcp_collector' | grep -q ."
# 3 over UDP, 2 over TCP, 2 over DoT; every one is forwarded (the blocks have no cache).
for i in 1 2 3; do ask_udp "$srv" SRV | grep -q NOERROR; done
for i in 1 2; do dig @127.0.0.1 -p "$dns_port" +tcp +tries=1 +time=2 "$srv" SRV | grep -q NOERROR; done
for i in 1 2; do
  kdig @127.0.0.1 -p "$dot_port" +tls-ca="$pki/ca.pem" +tls-hostname=dns.test +timeout=2 +retry=0 \
    "$srv" SRV | grep -q NOERROR
done
# An upstream that never answers: the query goes out (FQ) and no answer comes (no FR).
dig @127.0.0.1 -p "$dns_port" +tries=1 +time=8 x.dead.example A | grep -q SERVFAIL
# Without `full`, over TCP, with a cache: the second is a hit, a client exchange only.
for i in 1 2; do dig @127.0.0.1 -p "$cached_port" +tries=1 +time=2 "$srv" SRV | grep -q NOERROR; done
stop_ringdns
stop "$capture_pid"
stop "$tcp_capture_pid"
day_after=$(date -u +%Y-%m-%d)

dead=$(decode first | grep ' x\.dead\.example/')
out=$(decode first | grep -v -e ' ready\.remote' -e ' x\.dead\.example/')
echo "$out" | head -8
check "7 client queries (CQ)" test "$(grep -c ' CQ ' <<<"$out")" -eq 7
check "7 client responses (CR)" test "$(grep -c ' CR ' <<<"$out")" -eq 7
# One FQ per attempt, one FR per answer taken: a retry on a loaded machine adds some.
fq=$(grep -c ' FQ ' <<<"$out") fr=$(grep -c ' FR ' <<<"$out")
check "a forwarder query (FQ) for each of the 7, or more with retries ($fq)" test "$fq" -ge 7
check "a forwarder response (FR) for each of the 7 ($fr), none without its FQ" test "$fr" -ge 7 -a "$fr" -le "$fq"
check "UDP client queries: 3 on the DNS port" test "$(grep -cE " CQ .*:$dns_port UDP " <<<"$out")" -eq 3
check "TCP client queries: 2" test "$(grep -cE ' CQ .* TCP ' <<<"$out")" -eq 2
check "DoT client messages: 4, on the DoT port" test "$(grep -cE " C[QR] .*:$dot_port " <<<"$out")" -eq 4
# dnstap-read shows every protocol but TCP as UDP: read socket_protocol from the frames.
fields=$(python3 "$root/tests/tools/dnstap_fields.py" "$work/first.fstrm")
check "DoT client messages say DOT (CQ 5 and CR 6, protocol 3)" test "$(grep -cE '^(5|6) 3$' <<<"$fields")" -eq 4
check "every other message says UDP or TCP (1, 2)" test "$(grep -cE '^[5-8] (1|2)$' <<<"$fields")" -eq $(( $(wc -l <<<"$fields") - 4 ))
check "forwarded to nsd's address and port" test "$(grep -cE " F[QR] .*127\.0\.0\.1:$nsd_port (UDP|TCP) " <<<"$out")" -eq $((fq + fr))
check "client messages name the client and the listener" \
  test "$(grep -cE " C[QR] 127\.0\.0\.1:[0-9]+ (->|<-) 127\.0\.0\.1:($dns_port|$dot_port) " <<<"$out")" -eq 14
check "every message has the query name (full)" test "$(grep -c " $srv/IN/SRV" <<<"$out")" -eq $((14 + fq + fr))
yaml=$(decode_yaml first)
check "a dead upstream: the query and the SERVFAIL to the client (CQ, CR)" \
  test "$(grep -c ' CQ ' <<<"$dead") $(grep -c ' CR ' <<<"$dead")" = "1 1"
check "... and never a FR" test "$(grep -c ' FR ' <<<"$dead")" -eq 0
check "... and at least one FQ" test "$(grep -cE " FQ .*127\.0\.0\.1:$dead_port " <<<"$dead")" -ge 1
check "identity is the directive's" grep -q 'identity: test-identity' <<<"$yaml"
check "version is the directive's" grep -q 'version: test-version' <<<"$yaml"
check "the DoT block's identity is the host name" grep -q "identity: $(hostname)" <<<"$yaml"
check "the DoT block's version is ringdns-VERSION" grep -qE 'version: ringdns-[0-9]' <<<"$yaml"
check "responses carry the answer's SRV records" grep -q 'IN SRV 0 33 11210 10-1-17-231.cb-example-srv' <<<"$yaml"
check "query times are today's (UTC)" grep -qE "query_time: !!timestamp ($day_before|$day_after)" <<<"$yaml"
tcp_out=$(decode tcp | grep -v ' ready\.remote')
check "tcp://localhost:PORT collector (a name, resolved): 2 CQ, 2 CR" test "$(grep -c ' CQ ' <<<"$tcp_out") $(grep -c ' CR ' <<<"$tcp_out")" = "2 2"
check "tcp:// collector: the cache hit went upstream once (1 FQ, 1 FR)" \
  test "$(grep -c ' FQ ' <<<"$tcp_out") $(grep -c ' FR ' <<<"$tcp_out")" = "1 1"
check "without full, no message is in the stream" \
  test -z "$(dnstap-read -y "$work/tcp.fstrm" 2>/dev/null | grep -E 'query_message|response_message')"

# 2. No collector at all: every query is answered. When one comes, ringdns connects
# (fstrm retries every second); when it is killed under load, no query is lost.
rm -f "$sock"
: >"$work/ringdns.log"
start_ringdns
answered=0
for i in $(seq 1 100); do answered_udp "gone$i.remote.svc.cluster.local" A && answered=$((answered + 1)); done
check "100 of 100 queries answered with no collector ($answered)" test "$answered" -eq 100
capture second
check "ringdns connects once the collector comes" eventually connected
for i in $(seq 1 500); do echo "load$i.remote.svc.cluster.local A"; done >"$work/queries"
dnsperf -s 127.0.0.1 -p "$dns_port" -d "$work/queries" -l 4 -Q 1000 -t 2 >"$work/dnsperf.out" 2>&1 &
dnsperf_pid=$!
pids+=("$dnsperf_pid")
sleep 1
stop "$capture_pid"  # the collector dies mid-run
wait "$dnsperf_pid"
check "no query lost while the collector died ($(grep -E 'Queries (sent|lost)' "$work/dnsperf.out" | tr -s ' ' | tr '\n' ' '))" \
  grep -qE 'Queries lost: +0 ' "$work/dnsperf.out"
check "queries went on at the asked rate (about 4 000)" \
  test "$(awk '/Queries completed:/ {print $3}' "$work/dnsperf.out")" -ge 3800
capture third
check "ringdns reconnects when the collector comes back" eventually connected

# 3. A reload that keeps the directive keeps the connection: one connection before, the
# same one after, also once the old shards are gone.
before=$(connections)
check "one connection to the collector" test -n "$before" -a "$(grep -c . <<<"$before")" -eq 1
sed -i 's/cache 30/cache 60/' "$work/Corefile"
kill -HUP "$ringdns_pid"
check "the edited Corefile is reloaded" eventually grep -q 'SIGHUP: reloaded' "$work/ringdns.log"
answered_udp after-reload.remote.svc.cluster.local A
sleep 1  # the control thread reaps the old shards on its 1 s tick
check "the same single connection carries on after the reload" test "$(connections)" = "$before"
stop_ringdns
stop "$capture_pid"
check "the stream carries the query asked after the reload" grep -q ' CQ .*after-reload\.remote' <<<"$(decode third)"
# 4. Collectors that hold on: one that accepts and never answers the handshake, one
# that does the handshake and then stops reading. Queries are answered; a reload that
# drops the stalled collector completes and /metrics answers meanwhile; ringdns stops.
# (fstrm's socket operations are bounded, and a closing collector gives up after 2 s.)
gone() { ! kill -0 "$ringdns_pid" 2>/dev/null; }
stops_within() {  # SECONDS: SIGTERM, then ringdns gone within SECONDS; its exit status
  kill -TERM "$ringdns_pid"
  local _
  for _ in $(seq 1 $(($1 * 10))); do gone && break; sleep 0.1; done
  gone && wait "$ringdns_pid"
}
metrics_port=$(port_block 1)
for mode in --silent --stall; do
  rm -f "$sock"
  start_bg python3 "$root/tests/tools/dnstap_stalled_collector.py" "$sock" "$mode"
  collector_pid=$last_pid
  eventually test -S "$sock"
  sed -i "0,/^  bind 127.0.0.1$/s//  bind 127.0.0.1\n  prometheus 127.0.0.1:$metrics_port/" "$work/Corefile"
  : >"$work/ringdns.log"
  start_ringdns
  dnsperf -s 127.0.0.1 -p "$dns_port" -d "$work/queries" -l 2 -Q 2000 -t 2 >"$work/dnsperf.out" 2>&1
  check "$mode collector: no query lost" grep -qE 'Queries lost: +0 ' "$work/dnsperf.out"
  # Reload without dnstap to this socket: the old generation's collector closes.
  sed -i -e '/^  dnstap unix:/,/^  }$/d' -e "\|^  dnstap $sock full\$|d" "$work/Corefile"
  kill -HUP "$ringdns_pid"
  check "$mode collector: a reload that drops it completes" eventually grep -q 'SIGHUP: reloaded' "$work/ringdns.log"
  check "$mode collector: /metrics answers within 3 s meanwhile" \
    curl -sf -m 3 "http://127.0.0.1:$metrics_port/metrics" -o /dev/null
  stops_within 20
  check "$mode collector: ringdns stops within 20 s and exits 0" test $? -eq 0
  stop "$collector_pid"
    cp "$work/Corefile.orig" "$work/Corefile"
done

[ "$failures" -eq 0 ] || { cat "$work/ringdns.log"; exit 1; }
