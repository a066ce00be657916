# Sourced by the end-to-end tests: the tutorial's two Kubernetes clusters as network
# namespaces, flat and routed to each other without NAT through a third namespace that
# plays the VPC peering. The addresses exist only inside these namespaces.
#
#   cluster1  eth0 10.0.0.2/16   node; default route via the peering
#             10.0.3.53          the ringdns pod        10.0.1.5   a client pod
#             172.20.0.10 (lo)   the cluster DNS service (kube-dns)
#             172.20.45.3:53     the ringdns Service: kube-proxy's DNAT (nftables) to the
#                                pod's port 5353, UDP and TCP; a pod's /etc/resolv.conf
#                                (search list, ndots:5) names it, seen by
#                                every command `inside` cluster1 (ip netns exec mounts
#                                /etc/netns/NAME/resolv.conf over /etc/resolv.conf)
#   peering   10.0.0.1/16 towards cluster1, 10.1.0.1/16 towards cluster2, forwarding
#   cluster2  eth0 10.1.0.2/16   node; default route via the peering
#             10.1.17.2, 10.1.46.2   the cluster's DNS pods
#             10.1.5.53              the DoT endpoint's pod (port 8853)
#             10.1.200.10:853        its internal load balancer: DNAT to the pod's 8853
#
#   clusters_up            make them ($cluster1, $cluster2, $peering: namespace names)
#   inside NAMESPACE CMD...  run CMD there (a foreground command; start_bg takes
#                          `ip netns exec NAMESPACE CMD` so that the PID is CMD's)
#   clusters_down          delete them (also called on exit)
# Namespaces left by a run that was killed outright (SIGKILL: no exit trap) are deleted
# by the next run, with the processes that were still running in them.
# Needs tools/lib_loopback.sh sourced and loopback_init run first (for $work, the trap).

ringdns_service=172.20.45.3

clusters_up() {
  reap_stale_clusters
  cluster1=ringdns-c1-$$ cluster2=ringdns-c2-$$ peering=ringdns-peer-$$
  trap 'loopback_cleanup; clusters_down' EXIT
  local ns
  for ns in "$cluster1" "$cluster2" "$peering"; do
    ip netns add "$ns" || return 1
    ip -n "$ns" link set lo up
  done
  ip link add eth0 netns "$cluster1" type veth peer name to-cluster1 netns "$peering" || return 1
  ip link add eth0 netns "$cluster2" type veth peer name to-cluster2 netns "$peering" || return 1
  ip -n "$peering" addr add 10.0.0.1/16 dev to-cluster1
  ip -n "$peering" addr add 10.1.0.1/16 dev to-cluster2
  ip netns exec "$peering" sysctl -qw net.ipv4.ip_forward=1
  local address
  for address in 10.0.0.2/16 10.0.3.53/16 10.0.1.5/16; do ip -n "$cluster1" addr add "$address" dev eth0; done
  ip -n "$cluster1" addr add 172.20.0.10/32 dev lo
  for address in 10.1.0.2/16 10.1.17.2/16 10.1.46.2/16 10.1.5.53/16 10.1.200.10/16; do
    ip -n "$cluster2" addr add "$address" dev eth0
  done
  for ns in "$cluster1" "$cluster2" "$peering"; do
    for link in $(ip -n "$ns" -o link show | awk -F': ' '{print $2}' | cut -d@ -f1); do
      ip -n "$ns" link set "$link" up
    done
  done
  ip -n "$cluster1" route add default via 10.0.0.1
  ip -n "$cluster2" route add default via 10.1.0.1
  ip netns exec "$cluster1" nft -f - <<NFT || return 1
table ip kube-proxy {
  chain output {
    type nat hook output priority -100;  # dstnat
    ip daddr $ringdns_service udp dport 53 dnat to 10.0.3.53:5353
    ip daddr $ringdns_service tcp dport 53 dnat to 10.0.3.53:5353
  }
}
NFT
  ip netns exec "$cluster2" nft -f - <<NFT || return 1
table ip load-balancer {
  chain prerouting {
    type nat hook prerouting priority -100;  # dstnat
    ip daddr 10.1.200.10 tcp dport 853 dnat to 10.1.5.53:8853
  }
}
NFT
  mkdir -p "/etc/netns/$cluster1"
  printf '%s\n' "nameserver $ringdns_service" "search default.svc.cluster.local svc.cluster.local cluster.local" \
    "options ndots:5" >"/etc/netns/$cluster1/resolv.conf"
}

inside() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

clusters_down() {
  local ns
  for ns in "${cluster1:-}" "${cluster2:-}" "${peering:-}"; do
    [ -n "$ns" ] && { ip netns del "$ns" 2>/dev/null; rm -rf "/etc/netns/$ns"; }
  done
  return 0
}

# Only this file makes namespaces named so, and the number is the PID of the test that
# made them: if it is gone, nobody else will clean up.
reap_stale_clusters() {
  local ns pid
  for ns in $(ip netns list | awk '{print $1}' | grep -E '^ringdns-(c1|c2|peer)-[0-9]+$'); do
    kill -0 "${ns##*-}" 2>/dev/null && continue
    for pid in $(ip netns pids "$ns"); do kill -KILL "$pid" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
    rm -rf "/etc/netns/$ns"
  done
}
