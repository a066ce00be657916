// core/routes.h: what the packet path needs from a Config, compiled once: the listeners
// with their zone tries, and per server block its forward rules with resolved upstream
// addresses and timeouts.
//
// Built on the control thread, then immutable and shared read-only by every shard.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/base/zone_name.h"
#include "core/cache/cache_policy.h"
#include "core/config/config.h"
#include "core/net.h"
#include "core/pipeline/pipeline.h"
#include "core/stream/tls_session.h"
#include "core/view/expr.h"
#include "wire/name.h"
#include "zones/trie.h"

namespace ringdns::core {

struct ForwardRoute {
  WireZone from;
  std::vector<WireZone> except;
  std::vector<SockAddr> upstreams;
  config::Policy policy = config::Policy::kRandom;
  std::int64_t read_timeout_ms = 2000;
  std::uint32_t max_attempts = 0;  // 0: until the query deadline
  bool force_tcp = false;          // every query over TCP
  bool prefer_udp = false;         // TCP clients' queries over UDP first
  std::int64_t expire_ms = 10000;  // an idle TCP connection closes after this
  std::int64_t max_age_ms = 0;     // an idle TCP connection older than this closes; 0: no limit
  std::uint32_t id = 0;            // dense index over every forward, for per-shard state
  // The cache key's route: equal across reloads while `identity` is unchanged, so the
  // cache handed to the new configuration's shards still answers for it.
  std::uint32_t cache_id = 0;
  std::string identity;              // config::FormatForwardIdentity
  std::uint32_t block = 0;           // the server block it belongs to
  std::uint32_t first_upstream = 0;  // global id of upstreams[0]; the rest follow
  // Health (CoreDNS's forward): down after more than max_fails failures in a row (0:
  // never); while down, probed every health_interval_ms (backing off) with probe_name
  // probe_type, RD as probe_rd.
  std::uint32_t max_fails = 2;
  std::int64_t health_interval_ms = 500;
  WireZone probe_name;
  std::uint16_t probe_type = 6;  // SOA of the forwarded zone, unless a domain is given
  bool probe_rd = true;
  bool failfast = false;             // every upstream down: SERVFAIL at once
  std::uint32_t max_concurrent = 0;  // above: REFUSED at once; 0: no limit
  // DNS over TLS to the upstreams (tls://): every query goes over a TLS connection
  // made with this context (owned by RouteTable::tls_contexts), the certificate checked
  // against tls_names[i] (empty: `insecure`).
  SSL_CTX* tls = nullptr;
  std::vector<std::string> tls_names;
  std::uint16_t failover_rcodes = 0;  // bit r: RCODE r makes ringdns try the next upstream
  std::uint16_t next_rcodes = 0;      // bit r: RCODE r passes the query to the next forward
};

struct BlockRoute {
  std::string server_label;  // metrics: "dns://:5353", as CoreDNS names a server
  std::string zone_label;    // metrics: the block's first zone, "remote.svc.cluster.local."
  std::vector<ForwardRoute> forwards;    // in written order
  std::optional<CachePolicy> cache;      // the block's `cache` directive
  Pipeline pipeline;                     // the block's query stages (acl, any, ...)
  std::vector<config::Log> logs;         // the block's `log` directives
  std::optional<config::Errors> errors;  // its `errors` directive
  // Shards hand the logger thread a record of each answer (all, or only errors).
  bool logs_answers() const noexcept { return !logs.empty(); }
  bool logs_errors() const noexcept { return errors.has_value(); }
  // `dnstap`: shards tap each client exchange and each upstream exchange of the block
  // for the dnstap writer, with the wire messages when any of its directives is `full`.
  std::vector<config::Dnstap> dnstaps;
  bool dnstap_full = false;
  bool taps() const noexcept { return !dnstaps.empty(); }
  // `view`: the block serves a query only when every expression is true; none: always.
  std::string view_name;  // metrics' view label; empty without a view
  std::vector<view::Program> views;
  bool Takes(const view::Request& request) const noexcept {
    for (const view::Program& v : views) {
      if (!v.Evaluate(request)) return false;
    }
    return true;
  }
};

// The blocks one listener serves a zone with, tried in written order: the first whose
// view takes the query serves it (a block without a view, last when present, takes
// every query). When none does, the next shorter zone of the listener is tried, and
// REFUSED when there is none (CoreDNS's Server.ServeDNS goes on up the name).
struct ZoneCandidates {
  std::vector<std::uint32_t> blocks;          // indexes into RouteTable::blocks
  zones::RouteId fallback = zones::kNoRoute;  // the next shorter zone's candidates
};

struct ListenerSpec {
  SockAddr address;
  zones::Trie trie;  // zone -> index into `candidates`
  std::vector<ZoneCandidates> candidates;
  // The implicit [::] listener of a block without `bind`: skipped on hosts without IPv6.
  bool optional = false;
  // DNS over TLS (tls:// blocks): TCP only, this context's certificate; owned by
  // RouteTable::tls_contexts. Null: plain DNS over UDP and TCP.
  SSL_CTX* tls = nullptr;
};

struct RouteTable {
  std::vector<ListenerSpec> listeners;
  std::vector<BlockRoute> blocks;
  std::vector<SockAddr> source_addresses;  // per family, from source_address
  std::vector<std::string> warnings;       // directives parsed but not yet honoured, files missing
  std::vector<TlsContext> tls_contexts;    // the tls:// blocks' (listeners point here)
  bool views = false;                      // some block has a view: routing evaluates them
  std::size_t forward_count = 0;
  std::uint32_t upstream_count = 0;  // over every forward
  // Whether any upstream is IPv4 ([0]) or IPv6 ([1]): each shard opens upstream UDP
  // sockets of those families only.
  bool upstream_families[2] = {false, false};
  std::uint32_t upstream_family_count() const noexcept {
    return (upstream_families[0] ? 1u : 0u) + (upstream_families[1] ? 1u : 0u);
  }

  // The block that serves `qname` on `listener`: the longest zone's first candidate
  // whose view takes `request` (built by the caller only when `views`; null otherwise),
  // then the shorter zones'. kNoRoute: none, REFUSED.
  zones::RouteId PickBlock(const ListenerSpec& listener, std::span<const std::uint8_t> qname,
                           const view::Request* request) const noexcept;
  // The first forward of `block` whose FROM contains `qname` and whose except list does
  // not; nullptr when none does (the query then fails with SERVFAIL, as in CoreDNS).
  const ForwardRoute* PickForward(std::uint32_t block,
                                  std::span<const std::uint8_t> qname) const noexcept;
  // The next forward of the same block after `current` that would take `qname` (for
  // `next RCODE`); nullptr when none.
  const ForwardRoute* PickForwardAfter(const ForwardRoute& current,
                                       std::span<const std::uint8_t> qname) const noexcept;
};

// The whole-query deadline: a stub resolver typically gives up after 5 s.
inline constexpr std::int64_t kQueryDeadlineMs = 5000;
// How long a retired upstream socket stays open: past the whole-query deadline, no
// attempt sent from it can still be answered.
inline constexpr std::int64_t kRetireSocketForMs = kQueryDeadlineMs + 1000;

// Fails for configurations this build cannot serve yet (tls://, force_tcp, acl), with
// the directive's position, rather than silently serving something else.
absl::StatusOr<RouteTable> BuildRoutes(const config::Config& config);

}  // namespace ringdns::core
