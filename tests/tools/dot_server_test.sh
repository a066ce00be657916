#!/usr/bin/env bash
# DNS over TLS served by ringdns (RFC 7858), checked with kdig: a throwaway CA, server
# and client certificates made here; one tls:// block per client_auth mode with
# CoreDNS's meanings; with no client certificate, a good one, one from another CA and
# an expired one. A refused handshake never gets an answer and is logged; a client
# that never finishes its handshake is cut off and counted.
# Usage: dot_server_test.sh PATH_TO_RINGDNS
set -u
. "$(dirname "$0")/lib_tool_test.sh" "$1"
. "$root/tests/tools/lib_pki.sh"
for tool in kdig openssl python3 /usr/sbin/nsd; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 0; }
done

# Certificates: a CA, the server (dns.test, 127.0.0.1), a client of that CA, a client of
# a look-alike CA (same name, another key: clients send it where the server asks for
# "CN=ca"), and an expired client of the right CA.
pki_init "$work/pki"
pki_ca ca
pki_ca other-ca ca
pki_signed server ca 2 "DNS:dns.test,IP:127.0.0.1"
pki_signed client ca 2
pki_signed stranger other-ca 2
pki_signed expired ca -1

nsd_port=$(port_block 6)
start_nsd remote "$nsd_port" remote.svc.cluster.local. "$root/examples/zones/remote.svc.cluster.local.zone"
modes=(nocert request require verify_if_given require_and_verify)
{
  i=1
  for mode in "${modes[@]}"; do
    cat <<BLOCK
tls://.:$((nsd_port + i)) {
  bind 127.0.0.1
  tls $pki/server.pem $pki/server.key $pki/ca.pem {
    client_auth $mode
  }
  forward . 127.0.0.1:$nsd_port
}
BLOCK
    i=$((i + 1))
  done
} >"$work/Corefile"
"$ringdns" -conf "$work/Corefile" -shards 2 2>"$work/ringdns.log" &
ringdns_pid=$!
pids+=("$ringdns_pid")
port_of() { local i; for i in "${!modes[@]}"; do [ "${modes[$i]}" = "$1" ] && echo $((nsd_port + i + 1)); done; }
ask() {  # MODE CLIENT: kdig over TLS, verifying the server against the CA
  local cert=()
  [ "$2" != none ] && cert=(+tls-certfile="$pki/$2.pem" +tls-keyfile="$pki/$2.key")
  kdig @127.0.0.1 -p "$(port_of "$1")" +tls-ca="$pki/ca.pem" +tls-hostname=dns.test "${cert[@]}" \
    +timeout=2 +retry=0 _couchbase._tcp.cb-example-srv.remote.svc.cluster.local SRV 2>&1
}
answered() { ask "$1" "$2" | grep -q 'status: NOERROR'; }
refused() { ! answered "$1" "$2"; }
for _ in $(seq 1 50); do answered nocert none && break; sleep 0.1; done

contains() { grep -qE "$2" <<<"$1"; }
out=$(ask nocert none)
check "nocert: answered over TLS 1.3" contains "$out" 'TLS1\.3.*status: NOERROR|status: NOERROR'
check "nocert: the session is TLS 1.3" contains "$out" 'TLS1\.3'
check "the three SRV records arrive" test "$(grep -cE '^_couchbase.*IN[[:space:]]+SRV' <<<"$out")" -eq 3
check "request: no certificate is fine" answered request none
check "request: a certificate from another CA is taken unverified" answered request stranger
check "require: no certificate is refused" refused require none
check "require: any certificate will do, unverified" answered require stranger
check "verify_if_given: no certificate is fine" answered verify_if_given none
check "verify_if_given: a good certificate is fine" answered verify_if_given client
check "verify_if_given: another CA's certificate is refused" refused verify_if_given stranger
check "require_and_verify: a good certificate is answered" answered require_and_verify client
check "require_and_verify: no certificate is refused" refused require_and_verify none
check "require_and_verify: another CA's certificate is refused" refused require_and_verify stranger
check "require_and_verify: an expired certificate is refused" refused require_and_verify expired
out=$(kdig @127.0.0.1 -p "$(port_of nocert)" +tls-ca="$pki/other-ca.pem" +tls-hostname=dns.test +timeout=2 +retry=0 \
  cb-example-srv.remote.svc.cluster.local A 2>&1)
check "a client trusting another CA does not accept ringdns's certificate" test -z "$(grep 'status: NOERROR' <<<"$out")"
sleep 1.1  # the error log is rate-limited to a line per second per shard
refused require_and_verify stranger
check "a refused handshake is logged with the reason" grep -q 'DNS over TLS handshake failed: .*certificate' "$work/ringdns.log"

# Slowloris on TLS: a ClientHello begun and never finished is cut off (5 s).
python3 - "$(port_of nocert)" <<'PY' >"$work/slow.out"
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"\x16\x03\x01\x02\x00")  # a handshake record header, then nothing
s.settimeout(8)
start = time.time()
try:
    data = s.recv(100)
except (ConnectionResetError, socket.timeout):
    data = b""
print("closed after %.1f s" % (time.time() - start) if not data else "got data")
PY
check "an unfinished handshake is cut off ($(cat "$work/slow.out"))" grep -qE 'closed after [4-7]\.' "$work/slow.out"

kill -TERM "$ringdns_pid"
wait "$ringdns_pid"
check "ringdns exits 0 on SIGTERM" test $? -eq 0
check "handshakes are counted" grep -qE 'tls_handshakes=[1-9]' "$work/ringdns.log"
check "refused handshakes are counted" grep -qE 'tls_handshake_failures=[1-9]' "$work/ringdns.log"
check "the cut-off handshake is counted" grep -q 'tls_handshake_timeouts=1' "$work/ringdns.log"
[ "$failures" -eq 0 ] || { cat "$work/ringdns.log"; exit 1; }
