# Sourced by the end-to-end tests: the tutorial's two Kubernetes clusters as network
# namespaces, flat and routed to each other without NAT through a third namespace that
# plays the VPC peering. The addresses exist only inside these namespaces.
#
#   cluster1  eth0 10.0.0.2/16   node; default route via the peering
#             10.0.3.53          the ringdns pod        10.0.1.5   a client pod
#             172.20.0.10 (lo)   the cluster DNS service (kube-dns)
#   peering   10.0.0.1/16 towards cluster1, 10.1.0.1/16 towards cluster2, forwarding
#   cluster2  eth0 10.1.0.2/16   node; default route via the peering
#             10.1.17.2, 10.1.46.2   the cluster's DNS pods
#             10.1.200.10            the internal load balancer of the DoT endpoint
#
#   clusters_up            make them ($cluster1, $cluster2, $peering: namespace names)
#   inside NAMESPACE CMD...  run CMD there (a foreground command; start_bg takes
#                          `ip netns exec NAMESPACE CMD` so that the PID is CMD's)
#   clusters_down          delete them (also called on exit)
# Needs tools/lib_loopback.sh sourced and loopback_init run first (for $work, the trap).

clusters_up() {
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
  for address in 10.1.0.2/16 10.1.17.2/16 10.1.46.2/16 10.1.200.10/16; do
    ip -n "$cluster2" addr add "$address" dev eth0
  done
  for ns in "$cluster1" "$cluster2" "$peering"; do
    for link in $(ip -n "$ns" -o link show | awk -F': ' '{print $2}' | cut -d@ -f1); do
      ip -n "$ns" link set "$link" up
    done
  done
  ip -n "$cluster1" route add default via 10.0.0.1
  ip -n "$cluster2" route add default via 10.1.0.1
}

inside() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

clusters_down() {
  local ns
  for ns in "${cluster1:-}" "${cluster2:-}" "${peering:-}"; do
    [ -n "$ns" ] && ip netns del "$ns" 2>/dev/null
  done
  return 0
}
