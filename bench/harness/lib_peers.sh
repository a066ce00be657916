# Sourced by bench/harness/peers.sh: how each forwarder is started, configured as a
# performance-minded operator would for a single core, forwarding everything to the nsd
# upstream on 127.0.0.1:$upstream_port. Caches are on, or off (CACHE=0) where the
# forwarder can turn it off; Unbound cannot, and the forwarding scenario asks unique
# names instead.
#   start_forwarder NAME PORT CACHE(0|1)   sets $forwarder_pid; returns 1 if unavailable
#   forwarder_version NAME                 one line, for the report
#   forwarders                             the names, in report order
#   start_bench_upstream                   nsd on 127.0.0.1:$upstream_port with the zones
#   k8s_queries                            the tutorial's traffic, a dnsperf input
#   wait_ready PORT                        until the forwarder answers (10 s at most)
#   cpu_ns PID, peak_rss_kib PID, percentiles   measurements

# ringdns-epoll: ringdns on its fallback backend (-io epoll), as under a seccomp profile
# that refuses io_uring. ringdns-dnstap: ringdns with `dnstap unix://... full` to a local
# fstrm_capture (whose own CPU is not counted). ringdns-before: another build of ringdns,
# $RINGDNS_BEFORE, started as ringdns is, for a before-and-after in one run (it is listed
# only when RINGDNS_BEFORE is set). FORWARDERS narrows the list.
forwarders() {
  echo "${FORWARDERS:-floor ringdns ${RINGDNS_BEFORE:+ringdns-before} ringdns-epoll ringdns-dnstap dnsdist unbound kresd dnsmasq}"
}

# The binary a ringdns-like forwarder runs.
ringdns_binary() { if [ "$1" = ringdns-before ]; then echo "${RINGDNS_BEFORE:-}"; else echo "$ringdns"; fi; }

forwarder_available() {
  case $1 in
    floor) test -x "$reflector" ;;
    ringdns | ringdns-epoll | ringdns-before) test -x "$(ringdns_binary "$1")" ;;
    ringdns-dnstap) test -x "$ringdns" && command -v fstrm_capture >/dev/null ;;
    dnsdist) command -v dnsdist >/dev/null ;;
    unbound) command -v /usr/sbin/unbound >/dev/null ;;
    kresd) command -v /usr/sbin/kresd >/dev/null ;;
    dnsmasq) command -v /usr/sbin/dnsmasq >/dev/null ;;
    *) return 1 ;;
  esac
}

forwarder_version() {
  case $1 in
    floor) echo "bench/reflector (recvmmsg/sendmmsg, flips QR)" ;;
    ringdns | ringdns-*) "$(ringdns_binary "$1")" -version 2>&1 | head -1 ;;
    dnsdist) dnsdist --version 2>&1 | head -1 ;;
    unbound) /usr/sbin/unbound -V 2>&1 | head -1 ;;
    kresd) /usr/sbin/kresd --version 2>&1 | head -1 ;;
    dnsmasq) /usr/sbin/dnsmasq --version 2>&1 | head -1 ;;
  esac
}

start_forwarder() {  # NAME PORT CACHE
  local name=$1 port=$2 cache=$3 dir="$work/$1-$2"
  forwarder_available "$name" || return 1
  mkdir -p "$dir"
  case $name in
    floor)
      start_bg "$reflector" "$port" ;;
    ringdns | ringdns-*)  # every build and backend of ringdns
      { printf '.:%s {\n  bind 127.0.0.1\n' "$port"
        [ "$cache" = 1 ] && printf '  cache\n'
        [ "$name" = ringdns-dnstap ] && printf '  dnstap unix://%s/tap.sock full\n' "$dir"
        printf '  forward . 127.0.0.1:%s\n}\n' "$upstream_port"; } >"$dir/Corefile"
      if [ "$name" = ringdns-dnstap ]; then
        start_bg fstrm_capture -t protobuf:dnstap.Dnstap -u "$dir/tap.sock" -w /dev/null 2>/dev/null
        companion_pid=$last_pid
        for _ in $(seq 1 50); do [ -S "$dir/tap.sock" ] && break; sleep 0.1; done
      fi
      local backend=io_uring
      [ "$name" = ringdns-epoll ] && backend=epoll
      start_bg "$(ringdns_binary "$name")" -conf "$dir/Corefile" -shards "${shards:-1}" -io "$backend" 2>"$dir/log" ;;
    dnsdist)
      { echo "setLocal('127.0.0.1:$port')"
        echo "newServer({address='127.0.0.1:$upstream_port', healthCheckMode='up'})"
        [ "$cache" = 1 ] && echo "getPool(''):setCache(newPacketCache(100000))"; } >"$dir/dnsdist.conf"
      start_bg dnsdist -C "$dir/dnsdist.conf" --supervised --disable-syslog >"$dir/log" 2>&1 ;;
    unbound)
      cat >"$dir/unbound.conf" <<CONF
server:
  interface: 127.0.0.1@$port
  num-threads: 1
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "$dir"
  pidfile: ""
  use-syslog: no
  logfile: "$dir/log"
  verbosity: 0
  do-ip6: no
  access-control: 127.0.0.0/8 allow
  do-not-query-localhost: no
  module-config: "iterator"
  msg-cache-size: 64m
  rrset-cache-size: 128m
  outgoing-range: 8192
  num-queries-per-thread: 4096
  so-rcvbuf: 4m
  so-sndbuf: 4m
  minimal-responses: no
  local-zone: "test." nodefault  # RFC 6761: Unbound answers test. itself by default
forward-zone:
  name: "."
  forward-addr: 127.0.0.1@$upstream_port
remote-control:
  control-enable: no
CONF
      start_bg /usr/sbin/unbound -d -c "$dir/unbound.conf" ;;
    kresd)
      { echo "net.listen('127.0.0.1', $port, { kind = 'dns' })"
        echo "cache.open(100 * MB, 'lmdb://$dir/cache')"
        echo "policy.add(policy.all(policy.STUB('127.0.0.1@$upstream_port')))"
        [ "$cache" = 1 ] || echo "policy.add(policy.all(policy.FLAGS('NO_CACHE')))"; } >"$dir/config.lua"
      start_bg /usr/sbin/kresd -n -q -c "$dir/config.lua" "$dir" >"$dir/log" 2>&1 ;;
    dnsmasq)
      start_bg /usr/sbin/dnsmasq -k --no-resolv --no-hosts --bind-interfaces --listen-address=127.0.0.1 \
        --port="$port" --server="127.0.0.1#$upstream_port" --cache-size=$([ "$cache" = 1 ] && echo 100000 || echo 0) \
        --dns-forward-max=10000 --user=root --pid-file= --log-facility="$dir/log" ;;
  esac
  forwarder_pid=$last_pid
}

# The upstream: nsd serving bench.test. (n1..n100000 and a wildcard for unique names, TTL
# 3600) and the tutorial's remote.svc.cluster.local. (TTL 1), two server processes.
upstream_port=5301
start_bench_upstream() {
  {
    printf '$ORIGIN bench.test.\n$TTL 3600\n'
    printf '@ IN SOA ns.bench.test. hostmaster.bench.test. 1 7200 1800 86400 300\n'
    printf '@ IN NS ns.bench.test.\nns IN A 127.0.0.1\n*.wild IN A 192.0.2.2\n'
    seq 1 100000 | awk '{printf "n%d IN A 192.0.2.%d\n", $1, $1 % 250 + 1}'
  } >"$work/bench.test.zone"
  nsd_conf upstream 127.0.0.1 "$upstream_port" bench.test. "$work/bench.test.zone"
  sed -i 's/server-count: 1/server-count: 2/' "$work/upstream/nsd.conf"
  printf 'zone:\n  name: "remote.svc.cluster.local."\n  zonefile: "%s"\n' \
    "$root/examples/zones/remote.svc.cluster.local.zone" >>"$work/upstream/nsd.conf"
  start_bg /usr/sbin/nsd -d -c "$work/upstream/nsd.conf"
  for _ in $(seq 1 100); do dig @127.0.0.1 -p "$upstream_port" +short n1.bench.test | grep -q . && break; sleep 0.1; done
}

# The tutorial's traffic: SRV, pod A, AAAA (no data), and the NXDOMAINs of search-path
# expansion; TTL 1 as Kubernetes serves it.
k8s_queries() {
  local remote=remote.svc.cluster.local pod
  for pod in 10-1-17-231 10-1-46-20 10-1-68-212; do
    echo "_couchbase._tcp.cb-example-srv.$remote SRV"
    echo "$pod.cb-example-srv.$remote A"
    echo "$pod.cb-example-srv.$remote AAAA"
    echo "cb-example-srv.$remote.$remote A"            # search path: namespace suffix
    echo "cb-example-srv.$remote.svc.cluster.local A"  # search path: svc suffix
  done
}

# Until the forwarder on PORT answers n1.bench.test, asking again at once (dig's own
# start-up paces it): false after 10 s.
wait_ready() {  # PORT
  local deadline=$((SECONDS + 10))
  while [ "$SECONDS" -lt "$deadline" ]; do
    dig @127.0.0.1 -p "$1" +tries=1 +timeout=1 n1.bench.test A 2>/dev/null | grep -q 'status: NOERROR' && return 0
    sleep 0.005
  done
  return 1
}

# Time on CPU, user and system, of every thread of the process, in nanoseconds
# (schedstat: finer than the 10 ms ticks of /proc/PID/stat).
# dnsmasq serves TCP in forked children: they count too while they live.
cpu_ns() {
  local pids=("$1") child
  for child in $(pgrep -P "$1" 2>/dev/null); do pids+=("$child"); done
  for child in "${pids[@]}"; do cat /proc/"$child"/task/*/schedstat 2>/dev/null; done |
    awk '{s += $1} END {printf "%.0f", s}'
}
peak_rss_kib() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }
percentiles() {  # latencies in seconds on stdin -> "p50 p99 p999" in microseconds
  sort -g | awk '{v[NR] = $1} END {
    if (NR == 0) { print "- - -"; exit }
    printf "%.0f %.0f %.0f\n", v[int(NR * 0.5) + 1] * 1e6, v[int(NR * 0.99) + 1] * 1e6, v[int(NR * 0.999) + 1] * 1e6 }'
}
