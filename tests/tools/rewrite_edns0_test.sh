#!/usr/bin/env bash
# rewrite's edns0 rules as a user sees them: dig and kdig, over UDP and TCP, against
# ringdns forwarding to nsd on loopback, whose own NSID shows what it was asked.
# `rewrite edns0 nsid set` makes nsd send its NSID to a client that did not ask for it;
# `rewrite edns0 nsid unset` keeps it from one that did; a client without EDNS gets an
# answer without OPT whatever the rule added upstream; `stop` ends the rules once one
# has done its rewrite. The upstream's NSID is the only EDNS option nsd echoes, so the
# option's data (local, subnet) is checked by the integration tests, not here.
# Usage: rewrite_edns0_test.sh PATH_TO_RINGDNS
set -u
. "$(dirname "$0")/lib_tool_test.sh" "$1"
for tool in dig kdig /usr/sbin/nsd; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 0; }
done

nsd_port=$(port_block 4)
set_port=$((nsd_port + 1))
unset_port=$((nsd_port + 2))
stop_port=$((nsd_port + 3))
cat >"$work/edns.test.zone" <<'ZONE'
$ORIGIN edns.test.
$TTL 300
@ IN SOA ns.edns.test. hostmaster.edns.test. 1 7200 1800 86400 300
@ IN NS ns
ns IN A 127.0.0.1
www IN A 192.0.2.1
ZONE
nsd_conf upstream 127.0.0.1 "$nsd_port" edns.test. "$work/edns.test.zone"
sed -i '/^server:/a\  nsid: "ascii_upstream-nsd"' "$work/upstream/nsd.conf"
start_bg /usr/sbin/nsd -d -c "$work/upstream/nsd.conf"
# No cache: every query below is one nsd answers.
cat >"$work/Corefile" <<COREFILE
.:$set_port {
  bind 127.0.0.1
  rewrite edns0 nsid set
  forward . 127.0.0.1:$nsd_port
}
.:$unset_port {
  bind 127.0.0.1
  rewrite edns0 nsid unset
  forward . 127.0.0.1:$nsd_port
}
.:$stop_port {
  bind 127.0.0.1
  rewrite stop edns0 nsid unset
  rewrite edns0 nsid set
  forward . 127.0.0.1:$nsd_port
}
COREFILE
"$ringdns" -conf "$work/Corefile" -validate >"$work/normalised" 2>"$work/validate.err"
check "-validate prints the rules" grep -q 'rewrite stop edns0 nsid unset' "$work/normalised"
"$ringdns" -conf "$work/Corefile" -shards 1 2>"$work/ringdns.log" &
ringdns_pid=$!
pids+=("$ringdns_pid")

ask() {  # ask PORT [dig options]: dig's whole answer for www.edns.test A
  local p=$1; shift
  dig @127.0.0.1 -p "$p" +tries=1 +time=3 "$@" www.edns.test A 2>&1
}
kask() {  # kask PORT [kdig options]
  local p=$1; shift
  kdig @127.0.0.1 -p "$p" +timeout=3 +retry=0 "$@" www.edns.test A 2>&1
}
has() { grep -qE "$2" <<<"$1"; }
lacks() { ! grep -qE "$2" <<<"$1"; }
theirs='NSID: .*upstream-nsd'
up() { has "$(ask "$set_port")" 'status: NOERROR'; }
check "ringdns serves" eventually up
check "nsd sends its NSID only when asked" has "$(ask "$nsd_port" +nsid)" "$theirs"
check "... and not otherwise (so its presence below means something)" lacks "$(ask "$nsd_port")" 'NSID'

for transport in +notcp +tcp; do
  out=$(ask "$set_port" "$transport")
  check "$transport: nsid set: nsd was asked for its NSID though dig was not" has "$out" "$theirs"
  check "$transport: ... with the answer" has "$out" 'IN[[:space:]]+A[[:space:]]+192\.0\.2\.1'
  # That the rule adds an OPT to such a query upstream is shown by the integration test
  # (RewriteEdns0, its fake upstream sees the option); here, what the client gets.
  out=$(ask "$set_port" +noedns "$transport")
  check "$transport: a client without EDNS gets the answer" has "$out" '192\.0\.2\.1'
  check "$transport: ... and no OPT" lacks "$out" 'OPT PSEUDOSECTION'
  out=$(ask "$unset_port" +nsid "$transport")
  check "$transport: nsid unset: the answer came" has "$out" 'status: NOERROR'
  check "$transport: ... with its record" has "$out" 'IN[[:space:]]+A[[:space:]]+192\.0\.2\.1'
  check "$transport: ... and no NSID: dig asked, nsd was not" lacks "$out" 'NSID'
  out=$(ask "$stop_port" +nsid "$transport")
  check "$transport: stop: the answer came" has "$out" 'IN[[:space:]]+A[[:space:]]+192\.0\.2\.1'
  check "$transport: ... without NSID: the unset did its rewrite and the set after it did not run" lacks "$out" 'NSID'
  out=$(ask "$stop_port" "$transport")
  check "$transport: stop: unset had nothing to remove, so the set ran" has "$out" "$theirs"
done
check "kdig +edns over UDP: nsid set" has "$(kask "$set_port" +edns)" 'NSID: .*upstream-nsd'
check "kdig +edns over TCP: nsid set" has "$(kask "$set_port" +edns +tcp)" 'NSID: .*upstream-nsd'
out=$(kask "$set_port" +tcp)
check "kdig without EDNS (its default): the answer" has "$out" '192\.0\.2\.1'
check "... and no EDNS section" lacks "$out" 'EDNS'
out=$(kask "$unset_port" +nsid +tcp)
check "kdig over TCP: nsid unset: the answer" has "$out" '192\.0\.2\.1'
check "... without NSID" lacks "$out" 'NSID'

kill -TERM "$ringdns_pid"
wait "$ringdns_pid"
check "ringdns stopped cleanly" test $? -eq 0

echo "$failures failures"
[ "$failures" -eq 0 ]
