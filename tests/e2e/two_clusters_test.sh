#!/usr/bin/env bash
# The tutorial end to end: two clusters in network namespaces (tests/e2e/lib_clusters.sh),
# cluster 2's DNS pods played by two nsd servers, cluster 1's DNS service by a third, and
# ringdns in cluster 1 with
#   1. the tutorial's Corefile, unchanged (examples/tutorial.Corefile): SRV, pod A, local
#      and NXDOMAIN lookups over UDP and TCP, and 20 s of dnsperf with nothing lost;
#   2. the production manifest's Corefile (deploy/kubernetes/production.yaml): one remote
#      DNS pod down, then both (SERVFAIL with an Extended DNS Error, stale answers), then
#      both back within the health-check interval;
#   3. the DoT variant (the Corefiles of deploy/kubernetes/dot-cluster{1,2}.yaml):
#      cluster 1 forwards the remote zone over DNS over TLS with mutual TLS to a ringdns
#      endpoint in cluster 2 behind its load balancer's address: the same lookups, 5 s
#      of dnsperf on distinct names, one DNS pod down behind the endpoint, and a client
#      certificate from another CA refused (kdig's, and a cluster 1 ringdns's).
# Clients ask the ringdns pod directly with dig, and through a pod's resolver (search
# list, the Service's port 53 translated as kube-proxy does) with dig +search and getent.
# Usage: two_clusters_test.sh PATH_TO_RINGDNS (as root; exits 77 to be skipped otherwise)
set -u
ringdns=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "SKIP: network namespaces need root"; exit 77; }
for tool in ip nft getent dig kdig dnsperf openssl python3 /usr/sbin/nsd; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done
. "$root/tools/lib_loopback.sh"
loopback_init
. "$root/tests/tools/lib_check.sh"
. "$root/tests/tools/lib_pki.sh"
. "$root/tests/e2e/lib_clusters.sh"
clusters_up || { echo "FAIL: could not build the network namespaces"; exit 1; }
# What a pod's resolver asks must be the ringdns Service, never this machine's resolver.
grep -qx "nameserver $ringdns_service" <(inside "$cluster1" cat /etc/resolv.conf) ||
  { echo "FAIL: cluster 1 does not see its pods' resolv.conf"; exit 1; }

# Cluster 2's DNS pods and cluster 1's DNS service.
remote_zone=$root/tests/e2e/zones/cluster2.cluster.local.zone
nsd_conf remote-a 10.1.17.2 53 cluster.local. "$remote_zone"
nsd_conf remote-b 10.1.46.2 53 cluster.local. "$remote_zone"
nsd_conf local 172.20.0.10 53 cluster.local. "$root/examples/zones/cluster.local.zone"
declare -A nsd_pid
start_dns() {  # NAME NAMESPACE
  start_bg ip netns exec "$2" /usr/sbin/nsd -d -c "$work/$1/nsd.conf"
  nsd_pid[$1]=$last_pid
}
stop_dns() { kill -TERM "${nsd_pid[$1]}"; wait "${nsd_pid[$1]}" 2>/dev/null; }
start_dns remote-a "$cluster2"
start_dns remote-b "$cluster2"
start_dns local "$cluster1"

start_ringdns() {  # NAMESPACE COREFILE LOG: $ringdns_pid
  start_bg ip netns exec "$1" "$ringdns" -conf "$2" -shards 2 2>"$3"
  ringdns_pid=$last_pid
}
stop_ringdns() { kill -TERM "$ringdns_pid"; wait "$ringdns_pid"; }
# A client pod in cluster 1 asking the ringdns pod; from source port $client_port when set
# (the kernel then gives every query the same shard, and so the same cache).
client_port=
ask() { inside "$cluster1" dig -b "10.0.1.5${client_port:+#$client_port}" @10.0.3.53 -p 5353 +tries=1 +timeout=3 "$@" 2>&1; }
ms_now() { echo $(($(date +%s%N) / 1000000)); }
corefile_of() {  # MANIFEST [SECRET-DIR]: its ConfigMap's Corefile, the secret mounted at SECRET-DIR
  python3 -c 'import sys, yaml
for doc in yaml.safe_load_all(open(sys.argv[1])):
    if doc and doc.get("kind") == "ConfigMap":
        print(doc["data"]["Corefile"])' "$root/deploy/kubernetes/$1" | sed "s#/etc/ringdns/tls#${2:-/nonexistent}#g"
}
status_of() { grep -o 'status: [A-Z]*' <<<"$1" | cut -d' ' -f2; }
wait_answering() {
  for _ in $(seq 1 50); do
    [ "$(status_of "$(ask kubernetes.default.svc.cluster.local A)")" = NOERROR ] && return 0
    sleep 0.1
  done
  return 1
}
srv=_couchbase._tcp.cb-example-srv.remote.svc.cluster.local
srv_answer() {  # DIG-OUTPUT: the three SRV records with the pods' A records as additional data
  [ "$(status_of "$1")" = NOERROR ] &&
    [ "$(grep -cE "^$srv\.[[:space:]].*IN[[:space:]]+SRV[[:space:]]+0 33 11210 10-1-" <<<"$1")" -eq 3 ] &&
    [ "$(sed -n '/ADDITIONAL SECTION/,/^$/p' <<<"$1" | grep -cE 'IN[[:space:]]+A[[:space:]]+10\.1\.')" -eq 3 ]
}
address_of() { ask +short "$1" A | sort | tr '\n' ' ' | sed 's/ $//'; }
lookups() {  # WHAT: the lookups a cluster 1 client makes through ringdns
  local what=$1 out id transport
  for transport in udp:+notcp tcp:+tcp; do
    id=$((RANDOM % 65536))
    out=$(ask "${transport#*:}" +qid="$id" "$srv" SRV)
    check "$what: SRV over ${transport%:*}: three pods with their A records" srv_answer "$out"
    check "$what: SRV over ${transport%:*}: the answer's ID is the query's" grep -q "id: $id\$" <<<"$out"
  done
  check "$what: a remote pod's A record" \
    test "$(address_of 10-1-17-231.cb-example-srv.remote.svc.cluster.local)" = 10.1.17.231
  check "$what: the local API service comes from cluster 1" \
    test "$(address_of kubernetes.default.svc.cluster.local)" = 10.96.0.1
  check "$what: a service under svc.cluster.local. outside remote is cluster 1's" \
    test "$(address_of app.default.svc.cluster.local)" = 10.0.12.34
  out=$(ask +tcp missing.remote.svc.cluster.local A)
  check "$what: a missing remote name is NXDOMAIN" test "$(status_of "$out")" = NXDOMAIN
  # A pod's own resolver, through the Service and the search list, with the short names
  # of the connection string couchbase://cb-example-srv.remote.svc.
  for transport in udp:+notcp tcp:+tcp; do
    out=$(inside "$cluster1" dig +search +tries=1 +timeout=3 "${transport#*:}" _couchbase._tcp.cb-example-srv.remote.svc SRV 2>&1)
    check "$what: a pod's resolver, over ${transport%:*} to the Service: the short SRV name's three pods" srv_answer "$out"
  done
  check "$what: a pod's resolver (getaddrinfo): cb-example-srv.remote.svc is the three remote pods" \
    test "$(inside "$cluster1" getent ahostsv4 cb-example-srv.remote.svc | awk '{print $1}' | sort -u | xargs)" \
    = "10.1.17.231 10.1.46.20 10.1.68.212"
}

# 1. The tutorial's Corefile, unchanged.
start_ringdns "$cluster1" "$root/examples/tutorial.Corefile" "$work/tutorial.log"
check "tutorial: ringdns answers in cluster 1" wait_answering
lookups tutorial
printf '%s\n' "$srv SRV" "10-1-46-20.cb-example-srv.remote.svc.cluster.local A" \
  "cb-example-srv.remote.svc.cluster.local A" "kubernetes.default.svc.cluster.local A" \
  "app.default.svc.cluster.local A" "missing.remote.svc.cluster.local A" >"$work/queries"
dnsperf_through() {  # WHAT SECONDS [QUERIES]: dnsperf at 2 000 q/s from cluster 1 through ringdns
  inside "$cluster1" dnsperf -s 10.0.3.53 -p 5353 -d "${3:-$work/queries}" -l "$2" -Q 2000 -b 4096 \
    >"$work/dnsperf-$1.out" 2>&1
  check "$1: $2 s of dnsperf at 2 000 q/s, nothing lost" grep -q 'Queries lost:         0 ' "$work/dnsperf-$1.out"
}
dnsperf_through tutorial 20
stop_ringdns

# 2. The production manifest's Corefile: health checks, cache with serve_stale.
corefile_of production.yaml >"$work/production.Corefile"
start_ringdns "$cluster1" "$work/production.Corefile" "$work/production.log"
check "production: ringdns answers in cluster 1" wait_answering
# Caches are per shard: the stale answer below is this shard's. The port lies below the
# ephemeral range (32768-60999), where ringdns's upstream sockets and dig's own could
# already hold it: dig then fails to bind and asks nothing.
client_port=20053
check "production: SRV through the cache" srv_answer "$(ask "$srv" SRV)"
sleep 1.2  # past the records' TTL of 1 s: what follows must go to cluster 2
stop_dns remote-a
lost=0
for i in $(seq 1 20); do
  [ "$(status_of "$(ask "gone-$i.remote.svc.cluster.local" A)")" = NXDOMAIN ] || lost=$((lost + 1))
  [ $((i % 5)) -eq 0 ] && { srv_answer "$(ask "$srv" SRV)" || lost=$((lost + 1)); }
done
check "one remote DNS pod down: all 24 queries answered by the other ($lost failed)" test "$lost" -eq 0
sleep 1.2
stop_dns remote-b
# From the same shard, which has timed cluster 2's answers: its attempts time out after
# a few round trips, not read_timeout (a shard with no sample waits 2 s per attempt).
# dig's own "Query time" (send to answer) is the measure: the time to spawn
# `ip netns exec dig` on a loaded machine is not ringdns's. An answer later than dig's
# 8 s would be no answer at all (no SERVFAIL below); the bound is the 5 s deadline with
# 1.5 s of slack for a descheduled shard, still well short of a slot left to dig's timeout.
out=$(ask +timeout=8 nowhere.remote.svc.cluster.local A)
query_ms=$(sed -n 's/^;; Query time: \([0-9]*\) msec$/\1/p' <<<"$out")
check "both down: SERVFAIL" test "$(status_of "$out")" = SERVFAIL
check "both down: with an Extended DNS Error" grep -q 'EDE: ' <<<"$out"
check "both down: answered by the 5 s deadline (${query_ms:-no} ms by dig's clock)" \
  test "${query_ms:-99999}" -le 6500
check "both down: a cached answer is served stale" srv_answer "$(ask "$srv" SRV)"
client_port=
start_dns remote-a "$cluster2"
start_dns remote-b "$cluster2"
for _ in $(seq 1 50); do
  inside "$cluster1" dig @10.1.17.2 +tries=1 +timeout=1 +short kubernetes.default.svc.cluster.local A |
    grep -q . && break
  sleep 0.05
done
# The prober asks every 1 s with no back-off, so answers resume within one interval of
# the pods' return. Waited for (a minute at most: never is a failure), then bounded by
# the interval with 2 s of slack: each try spawns `ip netns exec dig`, which a loaded
# machine can make take hundreds of milliseconds; a prober that backed off or stopped
# would still miss it.
back_try=0
back_answers() {
  back_try=$((back_try + 1))
  [ "$(status_of "$(ask +timeout=1 "back-$back_try.remote.svc.cluster.local" A)")" = NXDOMAIN ]
}
started=$(ms_now)
check "both back: answers resume" eventually back_answers
elapsed_ms=$(($(ms_now) - started))
check "both back: within the 1 s health-check interval, with slack (${elapsed_ms} ms)" \
  test "$elapsed_ms" -le 3000
stop_ringdns

# 3. DNS over TLS with mutual TLS between the clusters (dot-cluster1.yaml, dot-cluster2.yaml).
pki_init "$work/pki"
pki_ca ca
pki_ca other-ca ca  # a look-alike: same name, another key
pki_signed endpoint ca 2 "DNS:dns.cluster2.internal"
pki_signed proxy ca 2
pki_signed stranger other-ca 2
secret() {  # DIR CERT: a Kubernetes TLS secret as mounted (tls.crt, tls.key, ca.crt)
  mkdir -p "$1"
  cp "$pki/$2.pem" "$1/tls.crt"; cp "$pki/$2.key" "$1/tls.key"; cp "$pki/ca.pem" "$1/ca.crt"
}
secret "$work/tls-cluster2" endpoint
secret "$work/tls-cluster1" proxy
corefile_of dot-cluster2.yaml "$work/tls-cluster2" >"$work/cluster2.Corefile"
corefile_of dot-cluster1.yaml "$work/tls-cluster1" >"$work/cluster1.Corefile"
start_ringdns "$cluster2" "$work/cluster2.Corefile" "$work/endpoint.log"
endpoint_pid=$ringdns_pid
start_ringdns "$cluster1" "$work/cluster1.Corefile" "$work/dot.log"
check "DoT: ringdns answers in cluster 1" wait_answering
for _ in $(seq 1 50); do srv_answer "$(ask "$srv" SRV)" && break; sleep 0.1; done
lookups DoT
# 10 000 distinct remote names, each asked once: every query crosses the clusters over
# TLS (none is a cache hit).
seq -f "dot-%g.remote.svc.cluster.local A" 1 10000 >"$work/remote-queries"
dnsperf_through DoT 5 "$work/remote-queries"
# Cluster 2's endpoint fails over between its DNS pods as cluster 1's proxy does.
stop_dns remote-a
lost=0
for i in $(seq 1 10); do
  [ "$(status_of "$(ask "dot-gone-$i.remote.svc.cluster.local" A)")" = NXDOMAIN ] || lost=$((lost + 1))
done
check "DoT: one remote DNS pod down behind the endpoint: all 10 queries answered ($lost failed)" test "$lost" -eq 0
start_dns remote-a "$cluster2"
tls_ask() {  # CERT [NAME TYPE]: kdig from cluster 1 straight to cluster 2's DoT endpoint
  inside "$cluster1" kdig @10.1.200.10 -p 853 +tls-ca="$pki/ca.pem" +tls-hostname=dns.cluster2.internal \
    +tls-certfile="$pki/$1.pem" +tls-keyfile="$pki/$1.key" +timeout=2 +retry=0 "${2:-$srv}" "${3:-SRV}" 2>&1
}
check "DoT: the endpoint answers a client certificate from the clusters' CA" \
  test "$(status_of "$(tls_ask proxy)")" = NOERROR
check "DoT: and refuses one from another CA" test -z "$(status_of "$(tls_ask stranger)")"
check "DoT: the endpoint serves the remote namespace only" \
  test "$(status_of "$(tls_ask proxy kubernetes.default.svc.cluster.local A)")" = REFUSED
stop_ringdns
check "DoT: cluster 1 reached cluster 2 over TLS" grep -qE 'stopped:.* tls_handshakes=[1-9]' "$work/dot.log"
# A proxy whose client certificate comes from another CA gets nothing from cluster 2.
secret "$work/tls-stranger" stranger
corefile_of dot-cluster1.yaml "$work/tls-stranger" >"$work/stranger.Corefile"
start_ringdns "$cluster1" "$work/stranger.Corefile" "$work/stranger.log"
check "DoT, another CA's client certificate: ringdns answers in cluster 1" wait_answering
started=$(ms_now)
out=$(ask +timeout=8 "$srv" SRV)
elapsed_ms=$(($(ms_now) - started))
check "DoT, another CA's client certificate: the remote SRV lookup is SERVFAIL, never an answer (${elapsed_ms} ms)" \
  test "$(status_of "$out")" = SERVFAIL
stop_ringdns
handshakes=$(grep -o 'tls_handshakes=[0-9]*' "$work/stranger.log" | cut -d= -f2)
check "DoT, another CA's client certificate: the proxy backs off, not a storm (${handshakes:-no} handshakes)" \
  test "${handshakes:-999}" -le 30
ringdns_pid=$endpoint_pid
stop_ringdns
check "DoT: the refused certificate is logged with the reason" \
  grep -q 'DNS over TLS handshake failed: .*certificate' "$work/endpoint.log"

[ "$failures" -eq 0 ] || { tail -n 20 "$work"/*.log "$work"/dnsperf-*.out; exit 1; }
