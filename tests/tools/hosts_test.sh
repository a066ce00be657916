#!/usr/bin/env bash
# hosts as a user sees it, with dig over UDP and TCP against the ringdns binary: CoreDNS's
# README examples (a hosts file beside the Corefile, inline entries, fallthrough to a
# forward whose upstream, nsd, runs on loopback), blocks without forward, with and
# without fallthrough (the NixOS-style `home.dev { hosts {...} }`), a missing file, and
# a hosts file edited on disk served after its `reload 1s` with no signal and no
# Corefile change.
# Usage: hosts_test.sh PATH_TO_RINGDNS
set -u
. "$(dirname "$0")/lib_tool_test.sh" "$1"
for tool in dig /usr/sbin/nsd; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 0; }
done

nsd_port=$(port_block 4)
port=$((nsd_port + 1))
home_port=$((nsd_port + 2))
lan_port=$((nsd_port + 3))
start_nsd remote "$nsd_port" remote.svc.cluster.local. "$root/examples/zones/remote.svc.cluster.local.zone"
cat >"$work/example.hosts" <<'HOSTS'
# CoreDNS's README: a hosts file in the Corefile's folder
10.0.0.1   example.org  Www.Example.Org   # a comment
2001:db8::1 example.org
not-an-address ignored.example.org
10.9.9.9   outside.example.com
HOSTS
cat >"$work/Corefile" <<COREFILE
.:$port {
  bind 127.0.0.1
  root $work
  hosts example.hosts example.org example.net {
    10.0.0.2 inline.example.net
    10.0.0.3 example.org
    ttl 60
    reload 1s
    fallthrough
  }
  forward . 127.0.0.1:$nsd_port
}
home.dev:$home_port {
  bind 127.0.0.1
  hosts $work/missing.hosts {
    192.168.1.10 nas.home.dev
  }
}
lan.test:$lan_port {
  bind 127.0.0.1
  hosts {
    192.168.1.168 proxmox.lan.test
    fallthrough
  }
}
COREFILE
"$ringdns" -conf "$work/Corefile" -shards 2 2>"$work/ringdns.log" &
pids+=($!)

ask() {  # ask PORT NAME TYPE [dig options]: the answers' data, one a line, in order
  local p=$1 name=$2 type=$3; shift 3
  dig @127.0.0.1 -p "$p" +tries=1 +time=3 +short "$@" "$name" "$type" 2>/dev/null
}
status() {  # status PORT NAME TYPE [dig options]: "STATUS FLAGS"
  local p=$1 name=$2 type=$3; shift 3
  dig @127.0.0.1 -p "$p" +tries=1 +time=3 "$@" "$name" "$type" 2>/dev/null |
    sed -n 's/.*status: \([A-Z]*\),.*/\1/p; s/.*;; flags: \([a-z ]*\);.*/\1/p' | tr '\n' ' '
}
up() { [ -n "$(ask "$port" example.org A)" ]; }
check "ringdns serves" eventually up
# The warnings are written once the shards serve: wait for the line, do not race it.
check "the missing file is a warning naming it" eventually grep -q "hosts: file does not exist: $work/missing.hosts" "$work/ringdns.log"

for transport in +notcp +tcp; do
  check "$transport: A is the file's address, then the inline one" \
    test "$(ask "$port" example.org A "$transport" | tr '\n' ' ')" = "10.0.0.1 10.0.0.3 "
  check "$transport: AAAA from the file" test "$(ask "$port" EXAMPLE.org AAAA "$transport")" = "2001:db8::1"
  check "$transport: an inline entry" test "$(ask "$port" inline.example.net A "$transport")" = "10.0.0.2"
  check "$transport: authoritative NOERROR" grep -q "NOERROR qr aa rd" <<<"$(status "$port" example.org A "$transport")"
  check "$transport: TTL 60" grep -qE "^example\.org\.[[:space:]]+60[[:space:]]+IN[[:space:]]+A[[:space:]]+10\.0\.0\.1" \
    <<<"$(dig @127.0.0.1 -p "$port" +tries=1 +time=3 +noall +answer "$transport" example.org A)"
  check "$transport: PTR of a file address" test "$(ask "$port" 1.0.0.10.in-addr.arpa PTR "$transport" | tr '\n' ' ')" = "example.org. www.example.org. "
  check "$transport: PTR of an IPv6 address" test "$(dig @127.0.0.1 -p "$port" +tries=1 +time=3 +short "$transport" -x 2001:db8::1)" = "example.org."
  check "$transport: MX of a known name is NODATA" grep -q "NOERROR qr aa rd" <<<"$(status "$port" example.org MX "$transport")"
  check "$transport: a name outside the zones is forwarded" \
    test "$(ask "$port" cb-example-srv.remote.svc.cluster.local A "$transport" | wc -l)" = 3
  check "$transport: an unknown name in the zones falls through to the forward" \
    grep -q "REFUSED" <<<"$(status "$port" nope.example.org A "$transport")"
  check "$transport: a block without forward answers from hosts" test "$(ask "$home_port" NAS.home.dev A "$transport")" = "192.168.1.10"
  check "$transport: ... and an unknown name there is SERVFAIL" grep -q "SERVFAIL" <<<"$(status "$home_port" tv.home.dev A "$transport")"
  check "$transport: with fallthrough and no forward, a known name is answered" \
    test "$(ask "$lan_port" proxmox.lan.test A "$transport")" = "192.168.1.168"
  check "$transport: ... and an unknown one is SERVFAIL (nothing to fall through to)" \
    grep -q "SERVFAIL" <<<"$(status "$lan_port" tv.lan.test A "$transport")"
done

# The file edited in place: served after the reload interval, nothing else touched.
sed -i 's/^10.0.0.1 /10.0.0.42 /' "$work/example.hosts"
echo "10.0.0.7 new.example.org" >>"$work/example.hosts"
edited() { [ "$(ask "$port" new.example.org A)" = "10.0.0.7" ]; }
check "an edited hosts file is served after its reload interval" eventually edited
check "... with the edited address" test "$(ask "$port" example.org A | tr '\n' ' ')" = "10.0.0.42 10.0.0.3 "
check "the change is logged" grep -q "hosts file $work/example.hosts changed: reloading" "$work/ringdns.log"

echo "$failures failures"
[ "$failures" -eq 0 ]
