#!/usr/bin/env bash
# A memory limit as a pod or a systemd service sets it: ringdns started inside a cgroup
# limited to 64 MiB, with a cache its two shards could not hold there at the configured
# size, scales itself down, says so in one line, serves, and stays under the limit after
# a load of distinct names (nsd upstream on loopback). Skipped where no memory cgroup can
# be made (not root, no writable cgroup file system).
# Usage: memory_limit_test.sh PATH_TO_RINGDNS
set -u
. "$(dirname "$0")/lib_tool_test.sh" "$1"
for tool in dig dnsperf /usr/sbin/nsd; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
[ "${RINGDNS_SANITIZED:-0}" = 0 ] || { echo "SKIP: a sanitized build's shadow memory does not fit 64 MiB"; exit 77; }

# The cgroup to run in, below this process's own: v2 (memory.max) or v1.
limit=$((64 * 1024 * 1024))
if [ -f /sys/fs/cgroup/cgroup.controllers ] && grep -qw memory /sys/fs/cgroup/cgroup.controllers; then
  own=$(awk -F: '$1 == "0" {print $3}' /proc/self/cgroup)
  cgroup=/sys/fs/cgroup$own/ringdns-memtest.$$
  limit_file=memory.max
elif [ -d /sys/fs/cgroup/memory ]; then
  own=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ {print $3}' /proc/self/cgroup)
  cgroup=/sys/fs/cgroup/memory$own/ringdns-memtest.$$
  limit_file=memory.limit_in_bytes
else
  echo "SKIP: no memory cgroup"; exit 77
fi
mkdir "$cgroup" 2>/dev/null && echo "$limit" >"$cgroup/$limit_file" 2>/dev/null || {
  rmdir "$cgroup" 2>/dev/null; echo "SKIP: cannot make a memory cgroup here"; exit 77
}
remove_cgroup() { loopback_cleanup; rmdir "$cgroup" 2>/dev/null || true; }
trap remove_cgroup EXIT

nsd_port=$(port_block 2)
dns_port=$((nsd_port + 1))
start_nsd remote "$nsd_port" remote.svc.cluster.local. "$root/examples/zones/remote.svc.cluster.local.zone"
cat >"$work/Corefile" <<COREFILE
.:$dns_port {
  bind 127.0.0.1
  cache 30 {
    success 100000
    denial 100000
  }
  forward . 127.0.0.1:$nsd_port
}
COREFILE
# Joins the cgroup, then becomes ringdns: every thread and page it has is charged there.
sh -c "echo \$\$ >'$cgroup/cgroup.procs' && exec '$ringdns' -conf '$work/Corefile' -shards 2" 2>"$work/ringdns.log" &
ringdns_pid=$!
pids+=("$ringdns_pid")
ask() { dig @127.0.0.1 -p "$dns_port" +tries=1 +timeout=1 "$@"; }
answers() { ask cb-example-srv.remote.svc.cluster.local A 2>/dev/null | grep -q 'status: NOERROR'; }
check "serves inside a 64 MiB cgroup" eventually answers
check "says in one line how it scaled down" grep -q '\[INFO\] memory limit 64.0 MiB: 2 shards would hold up to .* scaled to fit 48.0 MiB' "$work/ringdns.log"
check "is not killed" kill -0 "$ringdns_pid"

# 30 000 distinct names, NXDOMAIN from nsd, each cached: the caches fill to what fits.
awk 'BEGIN { for (i = 0; i < 30000; i++) printf "m%d.remote.svc.cluster.local. A\n", i }' >"$work/queries"
dnsperf -s 127.0.0.1 -p "$dns_port" -d "$work/queries" -n 1 -l 30 -Q 5000 -t 5 >"$work/dnsperf.out" 2>&1
check "answers a run of distinct names" grep -q 'Queries completed: *30000' "$work/dnsperf.out"
rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$ringdns_pid/status" 2>/dev/null || echo 0)
echo "RSS after the run: $rss KiB"
check "is still running" kill -0 "$ringdns_pid"
check "holds less than the 64 MiB limit ($rss KiB)" test "$rss" -lt 65536
kill -TERM "$ringdns_pid"
wait "$ringdns_pid"
check "exits 0 on SIGTERM" test $? -eq 0
[ "$failures" -eq 0 ] || { cat "$work/ringdns.log" "$work/dnsperf.out"; exit 1; }
