#!/usr/bin/env bash
# CoreDNS's rewrite over real sockets, with nsd on loopback as the cluster's DNS: the
# AKS "Rewrite DNS" Corefile (a regex name rule with `answer name`), a suffix rule with
# `answer auto` (SRV targets turned back too), a type rule, a TTL range, a name that is
# not a name after the rewrite (SERVFAIL), cache hits in the client's own spelling, over
# UDP and TCP with dig and kdig: every client sees its own question. The query log
# names the client's question; a prefetch of a rewritten name asks the rewritten name's
# forward (a second nsd, with other addresses, serves every other name).
# Usage: rewrite_test.sh PATH_TO_RINGDNS
set -u
. "$(dirname "$0")/lib_tool_test.sh" "$1"
for tool in dig kdig /usr/sbin/nsd; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 0; }
done

nsd_port=$(port_block 3)
dns_port=$((nsd_port + 1))
other_port=$((nsd_port + 2))
start_nsd remote "$nsd_port" remote.svc.cluster.local. "$root/examples/zones/remote.svc.cluster.local.zone"
# The same zone elsewhere, with another address: what a wrongly chosen forward returns.
sed 's/^cb-example-srv IN A .*/cb-example-srv IN A 192.0.2.99/' "$root/examples/zones/remote.svc.cluster.local.zone" \
  | awk '!seen[$0]++' >"$work/other.zone"
start_nsd other "$other_port" remote.svc.cluster.local. "$work/other.zone"
cat >"$work/Corefile" <<COREFILE
example.com:$dns_port {
    bind 127.0.0.1
    rewrite stop {
      name regex (.*)\.example\.com {1}.remote.svc.cluster.local
      answer name (.*)\.remote\.svc\.cluster\.local {1}.example.com
    }
    cache
    log
    forward . 127.0.0.1:$nsd_port
}
refresh.test:$dns_port {
    bind 127.0.0.1
    rewrite name exact a.refresh.test. cb-example-srv.remote.svc.cluster.local.
    cache 5 {
        prefetch 1 1m 90%
    }
    forward remote.svc.cluster.local. 127.0.0.1:$nsd_port
    forward . 127.0.0.1:$other_port
}
cb.test:$dns_port {
    bind 127.0.0.1
    rewrite continue name suffix .cb.test. .remote.svc.cluster.local. answer auto
    rewrite ttl suffix .remote.svc.cluster.local. 30-60
    forward . 127.0.0.1:$nsd_port
}
typed.test:$dns_port {
    bind 127.0.0.1
    rewrite continue name exact typed.test. cb-example-srv.remote.svc.cluster.local.
    rewrite type TXT A
    forward . 127.0.0.1:$nsd_port
}
bad.test:$dns_port {
    bind 127.0.0.1
    rewrite name regex (.*)\.bad\.test {1}..remote.svc.cluster.local
    forward . 127.0.0.1:$nsd_port
}
COREFILE
"$ringdns" -conf "$work/Corefile" -shards 1 >"$work/queries.log" 2>"$work/ringdns.log" &
ringdns_pid=$!
pids+=("$ringdns_pid")
up() { dig @127.0.0.1 -p "$dns_port" +tries=1 +timeout=1 cb-example-srv.example.com A >/dev/null 2>&1; }
check "ringdns answers" eventually up

ask() { dig @127.0.0.1 -p "$dns_port" +tries=1 +timeout=2 "$@"; }
a_record() { echo "^$1[[:space:]]+[0-9]+[[:space:]]+IN[[:space:]]+A[[:space:]]+$2\$"; }

for transport in +notcp +tcp; do
  out=$(ask "$transport" cb-example-srv.example.com A)
  check "$transport: the question is the client's" grep -qE '^;cb-example-srv\.example\.com\.[[:space:]]+IN[[:space:]]+A$' <<<"$out"
  check "$transport: three addresses under the client's name (answer name)" \
    test "$(grep -cE "$(a_record 'cb-example-srv\.example\.com\.' '10\.1\.[0-9.]+')" <<<"$out")" -eq 3
  check "$transport: no name of the remote zone reaches the client" bash -c '! grep -q "remote.svc.cluster.local" <<<"$1"' _ "$out"
done
out=$(ask CB-Example-SRV.example.com A)
check "a cache hit keeps the client's spelling of the question" grep -qE '^;CB-Example-SRV\.example\.com\.[[:space:]]+IN[[:space:]]+A$' <<<"$out"
# The owners are compressed onto the question, so they take the client's spelling too.
check "a cache hit has the rewritten-back answer" grep -qiE "$(a_record 'cb-example-srv\.example\.com\.' '10\.1\.46\.20')" <<<"$out"
out=$(ask nothing-here.example.com A)
check "NXDOMAIN from upstream, for the client's question" \
  bash -c 'grep -q "status: NXDOMAIN" <<<"$1" && grep -qE "^;nothing-here\.example\.com\.[[:space:]]+IN" <<<"$1"' _ "$out"

out=$(ask _couchbase._tcp.cb-example-srv.cb.test SRV)
check "suffix + answer auto: three SRV records under the client's name" \
  test "$(grep -cE '^_couchbase\._tcp\.cb-example-srv\.cb\.test\.[[:space:]]+[0-9]+[[:space:]]+IN[[:space:]]+SRV' <<<"$out")" -eq 3
check "answer auto: SRV targets turned back too" grep -qE 'SRV[[:space:]]+0 33 11210 10-1-17-231\.cb-example-srv\.cb\.test\.$' <<<"$out"
check "continue: the ttl rule after the name rule raised TTL 1 to 30" \
  grep -qE '^_couchbase\._tcp\.cb-example-srv\.cb\.test\.[[:space:]]+30[[:space:]]' <<<"$out"
out=$(kdig @127.0.0.1 -p "$dns_port" +padding=1800 +timeout=2 +retry=0 cb-example-srv.cb.test A)
check "a query padded past 1 800 octets is rewritten too (its room is the whole buffer)" \
  test "$(grep -cE "$(a_record 'cb-example-srv\.cb\.test\.' '10\.1\.[0-9.]+')" <<<"$out")" -eq 3
out=$(kdig @127.0.0.1 -p "$dns_port" +tcp +timeout=2 +retry=0 cb-example-srv.cb.test A)
check "kdig over TCP: addresses under the client's name" grep -qE '^cb-example-srv\.cb\.test\.[[:space:]]+30[[:space:]]+IN[[:space:]]+A' <<<"$out"

out=$(ask typed.test TXT)
check "type TXT -> A: the question keeps TXT" grep -qE '^;typed\.test\.[[:space:]]+IN[[:space:]]+TXT$' <<<"$out"
check "exact rule: the A records come back under the client's name" grep -qE "$(a_record 'typed\.test\.' '10\.1\.17\.231')" <<<"$out"

out=$(ask www.bad.test A)
check "a name that is not a name after the rewrite: SERVFAIL for the client's question" \
  bash -c 'grep -q "status: SERVFAIL" <<<"$1" && grep -qE "^;www\.bad\.test\.[[:space:]]+IN" <<<"$1"' _ "$out"

# TTL 1 is floored to the cache's 5 s; every hit past 10% of that prefetches.
for _ in $(seq 1 14); do
  ask a.refresh.test A >>"$work/refresh.out"
  sleep 0.5
done
check "answers for a rewritten name all come from its own forward" \
  test "$(grep -cE "$(a_record 'a\.refresh\.test\.' '10\.1\.[0-9.]+')" "$work/refresh.out")" -ge 14
check "no answer came from the original name's forward, prefetches included" bash -c '! grep -q 192.0.2.99 "$1"' _ "$work/refresh.out"

kill -TERM "$ringdns_pid"
wait "$ringdns_pid" 2>/dev/null
check "the query log names the client's question, not the rewritten one" \
  grep -qE '"A IN cb-example-srv\.example\.com\. udp' "$work/queries.log"
check "some rewritten name was prefetched" grep -qE 'cache_prefetches=[1-9]' "$work/ringdns.log"
check "the rewrites are counted" grep -qE 'rewrites=[1-9]' "$work/ringdns.log"
check "the failed rewrite is counted" grep -qE 'rewrite_failures=1( |$)' "$work/ringdns.log"
[ "$failures" -eq 0 ]
