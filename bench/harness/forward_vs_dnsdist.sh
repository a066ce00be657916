#!/usr/bin/env bash
# A first forwarding measurement (the full harness is its own piece of work): dnsperf
# against ringdns and against dnsdist, both forwarding without a cache to the same nsd on
# loopback, in the same run. Reports answered queries per second and the forwarder's CPU
# time per answered query (utime+stime from /proc, before and after), median of REPS runs.
#
#   bench/harness/forward_vs_dnsdist.sh [SECONDS] [REPS] [RATE]
#
# RATE is dnsperf's -Q (queries per second) for the fixed-rate run; saturation runs use
# -q 200 outstanding and no -Q. With CACHE=1 both forwarders cache (ringdns `cache`,
# dnsdist's packet cache) and the small name set makes nearly every query a hit.
# Everything binds 127.0.0.1; every process is stopped by PID.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
seconds=${1:-10}
reps=${2:-3}
rate=${3:-10000}
ringdns=${RINGDNS:-$root/build/release/tools/ringdns}
shards=${SHARDS:-1}
command -v dnsperf >/dev/null && command -v dnsdist >/dev/null && command -v nsd >/dev/null || {
  echo "needs dnsperf, dnsdist and nsd (apt-get install dnsperf dnsdist nsd)" >&2; exit 2; }

. tools/lib_loopback.sh
loopback_init
start_nsd upstream 5301 remote.svc.cluster.local. "$root/examples/zones/remote.svc.cluster.local.zone"

cache=${CACHE:-0}
cache_directive=""
[ "$cache" = 1 ] && cache_directive="  cache\n"
printf "remote.svc.cluster.local:5353 {\n  bind 127.0.0.1\n${cache_directive}  forward . 127.0.0.1:5301\n}\n" >"$work/Corefile"
start_bg "$ringdns" -conf "$work/Corefile" -shards "$shards"
ringdns_pid=$last_pid

# dnsdist as a plain forwarder: one backend, health checks off; a packet cache with CACHE=1.
cat >"$work/dnsdist.conf" <<CONF
setLocal('127.0.0.1:5354')
newServer({address='127.0.0.1:5301', healthCheckMode='up'})
CONF
if [ "$cache" = 1 ]; then
  echo "getPool(''):setCache(newPacketCache(20000))" >>"$work/dnsdist.conf"
fi
start_bg dnsdist -C "$work/dnsdist.conf" --supervised --disable-syslog
dnsdist_pid=$last_pid
sleep 1

# The tutorial's SRV lookup and A lookups of its pods.
for i in $(seq 1 500); do
  echo "_couchbase._tcp.cb-example-srv.remote.svc.cluster.local SRV"
  echo "10-1-17-231.cb-example-srv.remote.svc.cluster.local A"
done >"$work/queries.txt"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
tick=$(getconf CLK_TCK)

run() {  # name pid port extra-dnsperf-args...
  local name=$1 pid=$2 port=$3; shift 3
  local before after out answered qps
  before=$(cpu_ticks "$pid")
  out=$(dnsperf -s 127.0.0.1 -p "$port" -d "$work/queries.txt" -l "$seconds" "$@" 2>&1)
  after=$(cpu_ticks "$pid")
  answered=$(echo "$out" | awk '/Queries completed:/ {print $3}')
  qps=$(echo "$out" | awk '/Queries per second:/ {printf "%d", $4}')
  lost=$(echo "$out" | awk '/Queries lost:/ {print $3}')
  awk -v n="$name" -v t=$((after - before)) -v hz="$tick" -v a="$answered" -v q="$qps" -v l="$lost" \
    'BEGIN { printf "%s %d %.2f %d\n", n, q, (a > 0 ? t / hz * 1e6 / a : 0), l }'
}

median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

for mode in "fixed -Q $rate" "saturation -q 200"; do
  label=${mode%% *}
  args=${mode#* }
  : >"$work/$label.txt"
  for _ in $(seq 1 "$reps"); do
    run ringdns "$ringdns_pid" 5353 $args >>"$work/$label.txt"
    run dnsdist "$dnsdist_pid" 5354 $args >>"$work/$label.txt"
  done
  echo "== $label ($args, ${seconds}s x $reps): forwarder, median qps, median CPU us/answer, lost (all runs)"
  for who in ringdns dnsdist; do
    q=$(awk -v w=$who '$1 == w {print $2}' "$work/$label.txt" | median)
    c=$(awk -v w=$who '$1 == w {print $3}' "$work/$label.txt" | median)
    l=$(awk -v w=$who '$1 == w {s += $4} END {print s}' "$work/$label.txt")
    echo "$who qps=$q cpu_us_per_answer=$c lost=$l"
  done
  awk '$1 == "ringdns" {print "  run:", $0} $1 == "dnsdist" {print "  run:", $0}' "$work/$label.txt"
done
