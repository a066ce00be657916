# Sourced by bench/harness/peers.sh: how each forwarder is started, configured as a
# performance-minded operator would for a single core, forwarding everything to the nsd
# upstream on 127.0.0.1:$upstream_port. Caches are on, or off (CACHE=0) where the
# forwarder can turn it off; Unbound cannot, and the forwarding scenario asks unique
# names instead.
#   start_forwarder NAME PORT CACHE(0|1)   sets $forwarder_pid; returns 1 if unavailable
#   forwarder_version NAME                 one line, for the report
#   forwarders                             the names, in report order

forwarders() { echo "floor ringdns dnsdist unbound kresd dnsmasq"; }

forwarder_available() {
  case $1 in
    floor) test -x "$reflector" ;;
    ringdns) test -x "$ringdns" ;;
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
    ringdns) "$ringdns" -version 2>&1 | head -1 ;;
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
    ringdns)
      { printf '.:%s {\n  bind 127.0.0.1\n' "$port"
        [ "$cache" = 1 ] && printf '  cache\n'
        printf '  forward . 127.0.0.1:%s\n}\n' "$upstream_port"; } >"$dir/Corefile"
      start_bg "$ringdns" -conf "$dir/Corefile" -shards "${shards:-1}" 2>"$dir/log" ;;
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
