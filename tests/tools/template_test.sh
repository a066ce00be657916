#!/usr/bin/env bash
# CoreDNS's template plugin, its README's examples answered over real sockets with dig
# and kdig, as CoreDNS answers them: A and PTR from named groups, .invalid as NXDOMAIN
# with a SOA and an EDE, MX with glue, NS in the authority section, fallthrough to a
# forward (a real nsd on loopback), NXDOMAIN where no regex matches, over UDP and TCP.
# Usage: template_test.sh PATH_TO_RINGDNS
set -u
. "$(dirname "$0")/lib_tool_test.sh" "$1"
for tool in dig kdig /usr/sbin/nsd; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 0; }
done

nsd_port=$(port_block 2)
dns_port=$((nsd_port + 1))
start_nsd remote "$nsd_port" remote.svc.cluster.local. "$root/examples/zones/remote.svc.cluster.local.zone"
cat >"$work/Corefile" <<COREFILE
.:$dns_port {
    bind 127.0.0.1
    forward . 127.0.0.1:$nsd_port

    # ip-a-b-c-d.example A a.b.c.d
    template IN A example {
      match (^|[.])ip-(?P<a>[0-9]*)-(?P<b>[0-9]*)-(?P<c>[0-9]*)-(?P<d>[0-9]*)[.]example[.]\$
      answer "{{ .Name }} 60 IN A {{ .Group.a }}.{{ .Group.b }}.{{ .Group.c }}.{{ .Group.d }}"
      fallthrough
    }
    template IN MX example {
      match ^ip-10-(?P<b>[0-9]*)-(?P<c>[0-9]*)-(?P<d>[0-9]*)[.]example[.]\$
      answer "{{ .Name }} 60 IN MX 10 {{ .Name }}"
      additional "{{ .Name }} 60 IN A 10.{{ .Group.b }}.{{ .Group.c }}.{{ .Group.d }}"
      authority  "example. 60 IN NS ns0.example."
      authority  "example. 60 IN NS ns1.example."
      additional "ns0.example. 60 IN A 203.0.113.8"
    }
    # d.c.b.a.in-addr.arpa PTR ip-a-b-c-d.example
    template IN PTR in-addr.arpa {
      match ^(?P<d>[0-9]*)[.](?P<c>[0-9]*)[.](?P<b>[0-9]*)[.](?P<a>[0-9]*)[.]in-addr[.]arpa[.]\$
      answer "{{ .Name }} 60 IN PTR ip-{{ .Group.a }}-{{ .Group.b }}-{{ .Group.c }}-{{ .Group.d }}.example."
    }
    template ANY ANY invalid {
      rcode NXDOMAIN
      authority "invalid. 60 {{ .Class }} SOA ns.invalid. hostmaster.invalid. (1 60 60 60 60)"
      ederror 21 "Blocked according to RFC2606"
    }
    # Names under remote.svc.cluster.local. that look like pods are made up here; the
    # rest go on to the cluster's DNS (nsd).
    template IN A remote.svc.cluster.local {
      match ^pod-(?P<a>[0-9]*)-(?P<b>[0-9]*)-(?P<c>[0-9]*)-(?P<d>[0-9]*)[.]
      answer "{{ .Name }} 5 IN A {{ index .Group \"a\" }}.{{ index .Group \"2\" }}.{{ index .Match 3 }}.{{ .Group.d }}"
      fallthrough
    }
    template IN TXT broken.example {
      answer "{{ .Group.missing }} 60 IN TXT \"never\""
    }
}
COREFILE
"$ringdns" -conf "$work/Corefile" -shards 1 2>"$work/ringdns.log" &
ringdns_pid=$!
pids+=("$ringdns_pid")
up() { dig @127.0.0.1 -p "$dns_port" +tries=1 +timeout=1 ip-1-2-3-4.example A >/dev/null 2>&1; }
check "ringdns answers" eventually up

ask() { dig @127.0.0.1 -p "$dns_port" +tries=1 +timeout=2 "$@"; }
out=$(ask ip-10-1-2-3.example A)
check "A from named groups" grep -qE '^ip-10-1-2-3\.example\.[[:space:]]+60[[:space:]]+IN[[:space:]]+A[[:space:]]+10\.1\.2\.3$' <<<"$out"
check "the answer is authoritative" grep -qE 'flags: qr aa' <<<"$out"
out=$(ask +tcp ip-1-2-3-4.sub.ip-10-9-8-7.example A)
check "over TCP, a name under an ip- name gets that address (the README's 'wildcard')" \
  grep -qE 'IN[[:space:]]+A[[:space:]]+10\.9\.8\.7$' <<<"$out"
out=$(ask 3.2.1.10.in-addr.arpa PTR)
check "PTR from named groups" grep -qE 'IN[[:space:]]+PTR[[:space:]]+ip-10-1-2-3\.example\.$' <<<"$out"

out=$(ask foo.invalid AAAA)
check ".invalid: NXDOMAIN" grep -q 'status: NXDOMAIN' <<<"$out"
check ".invalid: a SOA of TTL 60 in the authority section" \
  grep -qE '^invalid\.[[:space:]]+60[[:space:]]+IN[[:space:]]+SOA[[:space:]]+ns\.invalid\. hostmaster\.invalid\. 1 60 60 60 60$' <<<"$out"
check ".invalid: the EDE with its reason" grep -q 'EDE: 21 (Not Supported): (Blocked according to RFC2606)' <<<"$out"
out=$(ask foo.invalid CH TXT)
check ".invalid in class CH: the SOA takes the query's class ({{ .Class }})" \
  grep -qE '^invalid\.[[:space:]]+60[[:space:]]+CH[[:space:]]+SOA' <<<"$out"
out=$(kdig @127.0.0.1 -p "$dns_port" +tcp +edns +timeout=2 +retry=0 www.invalid A)
check "kdig over TCP: NXDOMAIN and the EDE" \
  bash -c 'grep -q "status: NXDOMAIN" <<<"$1" && grep -q "EDE: 21" <<<"$1"' _ "$out"

out=$(ask ip-10-0-0-9.example MX)
check "MX answer" grep -qE 'IN[[:space:]]+MX[[:space:]]+10 ip-10-0-0-9\.example\.$' <<<"$out"
check "MX: two NS in the authority section" test "$(grep -cE '^example\.[[:space:]]+60[[:space:]]+IN[[:space:]]+NS' <<<"$out")" -eq 2
check "MX: the glue in the additional section" grep -qE '^ns0\.example\.[[:space:]]+60[[:space:]]+IN[[:space:]]+A[[:space:]]+203\.0\.113\.8$' <<<"$out"
check "MX: the host's address in the additional section" grep -qE '^ip-10-0-0-9\.example\.[[:space:]]+60[[:space:]]+IN[[:space:]]+A[[:space:]]+10\.0\.0\.9$' <<<"$out"
out=$(ask something.example MX)
check "MX without fallthrough: a name no regex matches is NXDOMAIN" grep -q 'status: NXDOMAIN' <<<"$out"

out=$(ask pod-10-1-2-3.remote.svc.cluster.local A)
check "index .Group by name and by number, index .Match" grep -qE 'IN[[:space:]]+A[[:space:]]+10\.1\.2\.3$' <<<"$out"
out=$(ask cb-example-srv.remote.svc.cluster.local A)
check "fallthrough: a name no regex matches goes on to the forward (nsd's three pods)" \
  test "$(grep -cE 'IN[[:space:]]+A[[:space:]]+10\.1\.' <<<"$out")" -eq 3
out=$(ask _couchbase._tcp.cb-example-srv.remote.svc.cluster.local SRV)
check "another type is not the template's: forwarded" test "$(grep -v '^;' <<<"$out" | grep -cE 'IN[[:space:]]+SRV')" -eq 3

out=$(ask x.broken.example TXT)
check "a template that renders no record: SERVFAIL" grep -q 'status: SERVFAIL' <<<"$out"

kill -TERM "$ringdns_pid"
wait "$ringdns_pid"
check "ringdns exits 0 on SIGTERM" test $? -eq 0
check "template_failures counted the broken one" grep -qE 'template_failures=1( |$)' "$work/ringdns.log"
[ "$failures" -eq 0 ] || { cat "$work/ringdns.log"; exit 1; }
