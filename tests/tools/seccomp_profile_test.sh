#!/usr/bin/env bash
# deploy/kubernetes/seccomp/ringdns.json, the optional Localhost profile for nodes whose
# operators choose io_uring: loaded as the kubelet loads it (seccomp_run.py --profile:
# every call it does not list answers EPERM), ringdns runs on io_uring with every
# feature the tutorial's production setup uses (two shards, UDP, TCP, DNS over TLS both
# ways with mutual TLS, cache, log, health checks, /metrics, /health, /ready, a reload
# by SIGHUP, dropping to an unprivileged user, a clean stop), and on epoll too (-io
# epoll). The profile must refuse what it does not list (a mkdir under it fails) and,
# like RuntimeDefault, new namespaces (clone with CLONE_NEWUSER fails).
# Usage: seccomp_profile_test.sh PATH_TO_RINGDNS
set -u
. "$(dirname "$0")/lib_tool_test.sh" "$1"
. "$root/tests/tools/lib_pki.sh"
for tool in dig kdig curl openssl /usr/sbin/nsd; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done
/usr/bin/python3 -c 'import seccomp' 2>/dev/null || { echo "SKIP: python3-seccomp is not installed"; exit 77; }
[ "$(id -u)" -eq 0 ] || { echo "SKIP: -user needs root"; exit 77; }
id nobody >/dev/null 2>&1 || { echo "SKIP: no user nobody"; exit 77; }
# A sanitizer's runtime makes calls a production binary does not (LeakSanitizer stops
# the world with ptrace): the profile is for the release build.
if grep -qa __asan_init "$ringdns" || grep -qa __tsan_init "$ringdns"; then
  echo "SKIP: a sanitizer build; the profile is checked on the release build"
  exit 77
fi
under_profile=("/usr/bin/python3" "$root/tests/tools/seccomp_run.py" --profile "$root/deploy/kubernetes/seccomp/ringdns.json")

"${under_profile[@]}" /bin/mkdir "$work/not-allowed" 2>"$work/mkdir.err"
check "the profile refuses what it does not list (mkdir: $(cat "$work/mkdir.err"))" test ! -d "$work/not-allowed"
# clone(CLONE_NEWUSER | SIGCHLD), x86_64's call 56, from Python: refused, as RuntimeDefault
# refuses new namespaces (a thread's clone, without CLONE_NEW*, is allowed).
clone_newuser='import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
r = libc.syscall(56, 0x10000000 | 17, 0, 0, 0, 0)
if r == 0:
    os._exit(0)
print("refused" if r < 0 else "allowed")'
if [ "$(uname -m)" = x86_64 ]; then
  check "the profile refuses a new user namespace" \
    test "$("${under_profile[@]}" /usr/bin/python3 -c "$clone_newuser" 2>&1)" = refused
fi
# Does this host allow io_uring at all (a CI container's own profile may not)?
io_uring_here=$(/usr/bin/python3 -c 'import ctypes
libc = ctypes.CDLL(None, use_errno=True)
params = ctypes.create_string_buffer(120)
fd = libc.syscall(425, 1, params)
print("yes" if fd >= 0 else "no")')

pki_init "$work/pki"
pki_ca ca
pki_signed server ca 2 "DNS:dns.test,IP:127.0.0.1"
pki_signed client ca 2
base=$(port_block 6)
nsd_port=$base dns_port=$((base + 1)) tls_port=$((base + 2)) metrics_port=$((base + 3))
start_nsd remote "$nsd_port" remote.svc.cluster.local. "$root/examples/zones/remote.svc.cluster.local.zone"
cat >"$work/Corefile" <<COREFILE
.:$dns_port {
  bind 127.0.0.1
  forward remote.svc.cluster.local. tls://127.0.0.1:$tls_port {
    tls $pki/client.pem $pki/client.key $pki/ca.pem
    tls_servername dns.test
    health_check 1s
  }
  forward . 127.0.0.1:$nsd_port {
    health_check 1s
  }
  cache 30
  log
  errors
  prometheus 127.0.0.1:$metrics_port
  health 127.0.0.1:$((base + 4))
  ready 127.0.0.1:$((base + 5))
}
tls://.:$tls_port {
  bind 127.0.0.1
  tls $pki/server.pem $pki/server.key $pki/ca.pem {
    client_auth require_and_verify
  }
  forward . 127.0.0.1:$nsd_port
}
COREFILE
chmod -R a+rX "$work"  # read again by a reload after the drop to nobody

srv=_couchbase._tcp.cb-example-srv.remote.svc.cluster.local
ask() { dig @127.0.0.1 -p "$dns_port" +tries=1 +timeout=1 "$@" 2>&1; }
has_answer() { grep -q '11210 10-1-17-231.cb-example-srv' <<<"$1"; }
served() {  # PID: until it answers, while it lives (a refused call may end it at start)
  local _
  for _ in $(seq 1 100); do
    kill -0 "$1" 2>/dev/null || return 1
    has_answer "$(ask "$srv" SRV)" && return 0
    sleep 0.1
  done
  return 1
}
run() {  # BACKEND-FLAG EXPECTED-START-LINE
  "${under_profile[@]}" "$ringdns" -conf "$work/Corefile" -shards 2 -io "$1" -user nobody \
    >"$work/$1.out" 2>"$work/$1.log" &
  local pid=$!
  pids+=("$pid")
  check "$1: starts and answers under the profile" served "$pid"
  check "$1: the start-up line says $2" grep -q "on 2 shards ($2" "$work/$1.log"
  check "$1: UDP, through DNS over TLS upstream with mutual TLS" has_answer "$(ask "$srv" SRV)"
  check "$1: TCP" has_answer "$(ask +tcp "$srv" SRV)"
  check "$1: DNS over TLS served" has_answer "$(kdig @127.0.0.1 -p "$tls_port" +tls-ca="$pki/ca.pem" \
    +tls-hostname=dns.test +tls-certfile="$pki/client.pem" +tls-keyfile="$pki/client.key" +timeout=2 +retry=0 "$srv" SRV 2>&1)"
  check "$1: /metrics" grep -q "^ringdns_io_backend_info{backend=\"${2%%[ ,]*}\"} 1" \
    <<<"$(curl -s "http://127.0.0.1:$metrics_port/metrics")"
  check "$1: /health and /ready" test "$(curl -s "http://127.0.0.1:$((base + 4))/health")$(curl -s "http://127.0.0.1:$((base + 5))/ready")" = OKOK
  echo "# reloaded" >>"$work/Corefile"
  kill -HUP "$pid"
  check "$1: a reload by SIGHUP, as nobody" eventually grep -q 'SIGHUP: reloaded' "$work/$1.log"
  check "$1: answers after the reload" has_answer "$(ask +tcp "$srv" SRV)"
  kill -TERM "$pid"
  wait "$pid"
  check "$1: exits 0 on SIGTERM" test $? -eq 0
  pids=("${pids[@]/$pid/}")  # waited for: its PID is no longer ours to kill
  check "$1: no call was refused" sh -c "! grep -i 'not permitted' '$work/$1.log'"
}
if [ "$io_uring_here" = yes ]; then
  run io_uring "io_uring"
else
  echo "io_uring is refused on this host itself: only the epoll run"
fi
run epoll "epoll, as asked"
[ "$failures" -eq 0 ] || { cat "$work"/*.log; exit 1; }
