#!/usr/bin/env bash
# nsid as a user sees it: dig +nsid and kdig +nsid over UDP and TCP, and kdig over DNS
# over TLS, against ringdns forwarding to nsd on loopback (which has an NSID of its
# own). Answers to queries that ask carry ringdns's NSID whatever made them: the
# forward, the cache, chaos, and the SERVFAIL of a block without forward; queries that
# do not ask get none, not even the upstream's from a cached answer. A UDP answer with
# no room left under the client's size goes whole without it.
# Usage: nsid_test.sh PATH_TO_RINGDNS
set -u
. "$(dirname "$0")/lib_tool_test.sh" "$1"
. "$root/tests/tools/lib_pki.sh"
for tool in dig kdig openssl /usr/sbin/nsd; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 0; }
done

pki_init "$work/pki"
pki_ca ca
pki_signed server ca 2 "DNS:dns.test,IP:127.0.0.1"
nsd_port=$(port_block 3)
port=$((nsd_port + 1))
dot_port=$((nsd_port + 2))
cat >"$work/nsid.test.zone" <<'ZONE'
$ORIGIN nsid.test.
$TTL 300
@ IN SOA ns.nsid.test. hostmaster.nsid.test. 1 7200 1800 86400 300
@ IN NS ns
ns IN A 127.0.0.1
udp IN A 192.0.2.1
tcp IN A 192.0.2.2
kdig IN A 192.0.2.3
plain IN A 192.0.2.4
ZONE
printf 'big IN TXT "%s" "%s"\n' "$(printf 'a%.0s' $(seq 255))" "$(printf 'b%.0s' $(seq 190))" >>"$work/nsid.test.zone"
# huge: 3 100 octets of TXT, more than a query buffer holds: over TCP it is sent from a
# big buffer.
for i in $(seq 1 12); do printf 'huge IN TXT "%s%s"\n' "$i" "$(printf 'h%.0s' $(seq 250))"; done >>"$work/nsid.test.zone"

nsd_conf upstream 127.0.0.1 "$nsd_port" nsid.test. "$work/nsid.test.zone"
sed -i '/^server:/a\  nsid: "ascii_upstream-nsd"' "$work/upstream/nsd.conf"
start_bg /usr/sbin/nsd -d -c "$work/upstream/nsd.conf"
cat >"$work/Corefile" <<COREFILE
.:$port {
  bind 127.0.0.1
  nsid ringdns test
  cache
  chaos
  forward . 127.0.0.1:$nsd_port
}
nowhere.test:$port {
  bind 127.0.0.1
  nsid ringdns test
}
tls://.:$dot_port {
  bind 127.0.0.1
  tls $work/pki/server.pem $work/pki/server.key
  nsid
  forward . 127.0.0.1:$nsd_port
}
COREFILE
"$ringdns" -conf "$work/Corefile" -shards 2 2>"$work/ringdns.log" &
ringdns_pid=$!
pids+=("$ringdns_pid")

ask() {  # ask PORT NAME [dig options]: dig's whole answer
  local p=$1 name=$2; shift 2
  dig @127.0.0.1 -p "$p" +tries=1 +time=3 "$@" "$name" 2>&1
}
has() { grep -qE "$2" <<<"$1"; }
lacks() { ! grep -qE "$2" <<<"$1"; }
ours='NSID: .*ringdns test'
up() { has "$(ask "$port" plain.nsid.test A)" 'status: NOERROR'; }
check "ringdns serves" eventually up
check "nsd's own NSID is on (so its absence below means something)" \
  has "$(ask "$nsd_port" plain.nsid.test A +nsid)" 'NSID: .*upstream-nsd'

for transport in +notcp +tcp; do
  name=udp.nsid.test  # a name of its own per transport: its first query is a miss
  [ "$transport" = +tcp ] && name=tcp.nsid.test
  out=$(ask "$port" "$name" A +nsid "$transport")
  check "$transport: a forwarded answer carries ringdns's NSID" has "$out" "$ours"
  check "$transport: ... and the answer" has "$out" 'IN[[:space:]]+A[[:space:]]+192\.0\.2\.'
  check "$transport: ... not the upstream's" lacks "$out" 'upstream-nsd'
  out=$(ask "$port" "$name" A +nsid "$transport")
  check "$transport: the cached answer carries it" has "$out" "$ours"
  out=$(ask "$port" "$name" A "$transport")
  check "$transport: a query without NSID gets none from the cache" lacks "$out" 'NSID'
  check "$transport: ... but its answer" has "$out" 'status: NOERROR'
  out=$(ask "$port" version.bind TXT -c CH +nsid "$transport")
  check "$transport: chaos's answer carries it" has "$out" "$ours"
  check "$transport: ... and the version" has "$out" 'ringdns-'
  out=$(ask "$port" x.nowhere.test A +nsid "$transport")
  check "$transport: a SERVFAIL of a block without forward carries it" has "$out" 'status: SERVFAIL'
  check "$transport: ... with the NSID" has "$out" "$ours"
  check "$transport: without NSID a SERVFAIL has none" lacks "$(ask "$port" x.nowhere.test A "$transport")" 'NSID'
done

# big.nsid.test's answer takes 501 octets: a 512-octet UDP client has no room for the
# NSID's 16, and gets the whole answer without it rather than one over its size or cut.
size() { sed -n 's/.*MSG SIZE  rcvd: \([0-9]*\).*/\1/p' <<<"$1"; }
big=$(ask "$port" big.nsid.test TXT +nsid +bufsize=512 +ignore)
check "UDP 512: a 501-octet answer goes whole, without TC" has "$big" 'flags: qr aa rd; QUERY: 1, ANSWER: 1'
check "... within 512 octets ($(size "$big"))" test "$(size "$big")" -le 512
check "... and without the NSID it has no room for" lacks "$big" 'NSID'
big=$(ask "$port" big.nsid.test TXT +nsid +bufsize=1232)
check "UDP 1232: the same answer carries the NSID" has "$big" "$ours"
check "... 16 octets longer" test "$(size "$big")" -eq 517
check "TCP: it carries the NSID whatever the EDNS size" has "$(ask "$port" big.nsid.test TXT +nsid +bufsize=512 +tcp)" "$ours"
huge=$(ask "$port" huge.nsid.test TXT +nsid +tcp)
check "TCP: an answer too big for a query buffer carries it ($(size "$huge") octets)" has "$huge" "$ours"
check "... with all of its 12 records" has "$huge" 'ANSWER: 12,'

kask() {  # kask PORT NAME [kdig options]
  local p=$1 name=$2; shift 2
  kdig @127.0.0.1 -p "$p" +timeout=3 +retry=0 "$@" "$name" A 2>&1
}
check "kdig over UDP sees the NSID" has "$(kask "$port" kdig.nsid.test +nsid)" "$ours"
check "kdig over TCP sees the NSID" has "$(kask "$port" kdig.nsid.test +nsid +tcp)" "$ours"
check "kdig without +nsid sees none" lacks "$(kask "$port" kdig.nsid.test)" 'NSID'
dot=$(kask "$dot_port" plain.nsid.test +nsid +tls-ca="$work/pki/ca.pem" +tls-hostname=dns.test)
check "over TLS, nsid without DATA gives the host name" has "$dot" "NSID: .*$(hostname)"
check "... and the answer" has "$dot" '192\.0\.2\.4'

kill -TERM "$ringdns_pid"
wait "$ringdns_pid"
check "the cache answered some of them" grep -qE 'stopped:.*cache_hits=[1-9]' "$work/ringdns.log"

echo "$failures failures"
[ "$failures" -eq 0 ]
