#include "core/routes.h"

#include <sys/socket.h>

#include <map>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "core/config/loader.h"
#include "zones/trie_builder.h"

namespace ringdns::core {
namespace {

using config::Location;

absl::Status NotYet(const Location& where, absl::string_view what) {
  return absl::UnimplementedError(
      absl::StrCat(where.ToString(), ": ", what, " is not implemented in this build yet"));
}

}  // namespace

namespace {

bool Takes(const ForwardRoute& f, std::span<const std::uint8_t> qname) noexcept {
  if (!InZone(qname, f.from.view())) return false;
  for (const WireZone& e : f.except) {
    if (InZone(qname, e.view())) return false;
  }
  return true;
}

std::uint16_t RcodeMask(const std::vector<std::uint16_t>& rcodes) {
  std::uint16_t mask = 0;
  for (std::uint16_t r : rcodes) {
    if (r < 16) mask = static_cast<std::uint16_t>(mask | (1u << r));
  }
  return mask;
}

}  // namespace

const ForwardRoute* RouteTable::PickForward(std::uint32_t block,
                                            std::span<const std::uint8_t> qname) const noexcept {
  for (const ForwardRoute& f : blocks[block].forwards) {
    if (Takes(f, qname)) return &f;
  }
  return nullptr;
}

const ForwardRoute* RouteTable::PickForwardAfter(
    const ForwardRoute& current, std::span<const std::uint8_t> qname) const noexcept {
  const std::vector<ForwardRoute>& forwards = blocks[current.block].forwards;
  for (const ForwardRoute* f = &current + 1; f < forwards.data() + forwards.size(); ++f) {
    if (Takes(*f, qname)) return f;
  }
  return nullptr;
}

zones::RouteId RouteTable::PickBlock(const ListenerSpec& listener,
                                     std::span<const std::uint8_t> qname,
                                     const view::Request* request) const noexcept {
  zones::RouteId group = listener.trie.Match(qname);
  while (group != zones::kNoRoute) {
    const ZoneCandidates& c = listener.candidates[group];
    for (const std::uint32_t b : c.blocks) {
      if (request == nullptr || blocks[b].Takes(*request)) return b;
    }
    group = c.fallback;
  }
  return zones::kNoRoute;
}

absl::StatusOr<RouteTable> BuildRoutes(const config::Config& config) {
  RouteTable table;
  // (address, port) -> zone set; one trie per listener.
  struct PendingListener {
    SockAddr address;
    zones::TrieBuilder zones;
    bool optional = true;
    SSL_CTX* tls = nullptr;
    bool plain = false;  // some block serves plain DNS here
    // A zone's lower-case wire form -> its index into `zones_by_id`, so that spellings of
    // one zone ("A." and "\\065.") share their candidates.
    std::map<std::string, std::uint32_t> zone_ids;
    std::vector<ZoneCandidates> zones_by_id;
  };
  std::map<std::tuple<int, std::array<std::uint8_t, 16>, std::uint16_t>, PendingListener> listeners;
  for (std::size_t b = 0; b < config.blocks.size(); ++b) {
    const config::ServerBlock& block = config.blocks[b];
    SSL_CTX* tls_context = nullptr;
    if (block.tls) {
      absl::StatusOr<TlsContext> ctx = MakeServerTlsContext(*block.tls);
      if (!ctx.ok())
        return absl::InvalidArgumentError(
            absl::StrCat(block.where.ToString(), ": ", ctx.status().message()));
      tls_context = ctx->get();
      table.tls_contexts.push_back(std::move(*ctx));
    }
    if (!block.bind_except.empty()) return NotYet(block.where, "bind ... { except }");
    BlockRoute route;
    route.server_label = absl::StrCat(block.tls ? "tls://" : "dns://",
                                      block.bind.empty() ? "" : block.bind.front().ToString(), ":",
                                      block.keys.front().port);
    route.zone_label = block.keys.front().zone;
    for (const config::Forward& f : block.forwards) {
      ForwardRoute fr;
      if (f.to.front().transport == config::Transport::kTls) {
        absl::StatusOr<TlsContext> ctx =
            MakeClientTlsContext(f.tls.value_or(config::TlsFiles{}), f.insecure);
        if (!ctx.ok())
          return absl::InvalidArgumentError(
              absl::StrCat(f.where.ToString(), ": ", ctx.status().message()));
        fr.tls = ctx->get();
        table.tls_contexts.push_back(std::move(*ctx));
        for (const config::Upstream& up : f.to) {
          fr.tls_names.push_back(f.insecure                   ? ""
                                 : !up.tls_servername.empty() ? up.tls_servername
                                                              : f.tls_servername);
        }
      }
      absl::StatusOr<WireZone> from = ToWireZone(f.from);
      if (!from.ok()) return from.status();
      fr.from = *from;
      for (const std::string& e : f.except) {
        absl::StatusOr<WireZone> zone = ToWireZone(e);
        if (!zone.ok()) return zone.status();
        fr.except.push_back(*zone);
      }
      for (const config::Upstream& up : f.to)
        fr.upstreams.push_back(SockAddr::From(up.address, up.port));
      fr.policy = f.policy;
      fr.read_timeout_ms = absl::ToInt64Milliseconds(f.read_timeout);
      fr.max_attempts = f.max_connect_attempts;
      fr.force_tcp = f.force_tcp || fr.tls != nullptr;  // DNS over TLS is a stream
      fr.prefer_udp = f.prefer_udp;
      fr.expire_ms = absl::ToInt64Milliseconds(f.expire);
      fr.max_age_ms = absl::ToInt64Milliseconds(f.max_age);
      fr.id = static_cast<std::uint32_t>(table.forward_count++);
      fr.cache_id = fr.id;
      fr.identity = config::FormatForwardIdentity(block, f);
      fr.block = static_cast<std::uint32_t>(b);
      fr.first_upstream = table.upstream_count;
      table.upstream_count += static_cast<std::uint32_t>(fr.upstreams.size());
      for (const SockAddr& up : fr.upstreams)
        table.upstream_families[up.family() == AF_INET6 ? 1 : 0] = true;
      fr.max_fails = f.max_fails;
      fr.health_interval_ms = absl::ToInt64Milliseconds(f.health_check.interval);
      fr.probe_rd = f.health_check.recursion_desired;
      // CoreDNS asks ". NS", which an internal cluster DNS may not answer
      // (coredns/coredns#5281); by default ringdns asks the forwarded zone's SOA.
      const bool own_domain = f.health_check.domain != ".";
      absl::StatusOr<WireZone> probe = ToWireZone(own_domain ? f.health_check.domain : f.from);
      if (!probe.ok()) return probe.status();
      fr.probe_name = *probe;
      fr.probe_type = own_domain ? 2 : 6;  // NS : SOA
      fr.failfast = f.failfast_all_unhealthy_upstreams;
      fr.max_concurrent = f.max_concurrent;
      fr.failover_rcodes = RcodeMask(f.failover_rcodes);
      fr.next_rcodes = RcodeMask(f.next_rcodes);
      if (f.source_address) table.source_addresses.push_back(SockAddr::From(*f.source_address, 0));
      route.forwards.push_back(std::move(fr));
    }
    if (block.cache) route.cache = CachePolicy::From(*block.cache);
    absl::StatusOr<Pipeline> pipeline = BuildPipeline(block, &table.warnings);
    if (!pipeline.ok()) return pipeline.status();
    route.pipeline = std::move(*pipeline);
    route.logs = block.logs;
    route.errors = block.errors;
    route.dnstaps = block.dnstaps;
    for (const config::Dnstap& t : block.dnstaps) {
      route.dnstap_full = route.dnstap_full || t.full;
      table.warnings.insert(table.warnings.end(), t.notes.begin(), t.notes.end());
    }
    if (block.view) {
      route.view_name = block.view->name;
      for (const config::ViewExpr& e : block.view->exprs) {
        absl::StatusOr<view::Program> program = view::Program::Compile(e.source);
        if (!program.ok()) {
          return absl::InvalidArgumentError(absl::StrCat(
              e.where.ToString(), ": view ", block.view->name, ": ", program.status().message()));
        }
        route.views.push_back(std::move(*program));
      }
      table.views = true;
    }
    table.blocks.push_back(std::move(route));

    std::vector<config::IpAddress> addresses = block.bind;
    const bool implicit = addresses.empty();
    if (implicit) {
      config::IpAddress any4;
      any4.family = AF_INET;
      config::IpAddress any6;
      any6.family = AF_INET6;
      addresses = {any4, any6};
    }
    for (const config::ServerKey& key : block.keys) {
      for (const config::IpAddress& ip : addresses) {
        PendingListener& l = listeners[{ip.family, ip.bytes, key.port}];
        l.address = SockAddr::From(ip, key.port);
        l.optional = l.optional && implicit && ip.family == AF_INET6;
        // One transport per address and port: TLS and plain DNS cannot share a socket.
        if ((tls_context != nullptr && l.plain) || (tls_context == nullptr && l.tls != nullptr) ||
            (tls_context != nullptr && l.tls != nullptr && l.tls != tls_context)) {
          return absl::InvalidArgumentError(absl::StrCat(
              key.where.ToString(), ": ", l.address.ToString(),
              " is already served by another block with a different transport or certificate; "
              "expected one tls:// block, or only dns:// blocks, per address and port"));
        }
        if (tls_context != nullptr) {
          l.tls = tls_context;
        } else {
          l.plain = true;
        }
        absl::StatusOr<WireZone> wire_zone = ToWireZone(key.zone);
        if (!wire_zone.ok()) return wire_zone.status();
        const std::span<const std::uint8_t> wire = wire_zone->view();
        auto [at, added] = l.zone_ids.try_emplace(std::string(wire.begin(), wire.end()),
                                                  static_cast<std::uint32_t>(l.zones_by_id.size()));
        if (added) {
          l.zones_by_id.emplace_back();
          (void)l.zones.Add(wire, at->second);
        }
        std::vector<std::uint32_t>& candidates = l.zones_by_id[at->second].blocks;
        // A block naming the zone twice (or on both families' wildcard) is one candidate.
        if (candidates.empty() || candidates.back() != b)
          candidates.push_back(static_cast<std::uint32_t>(b));
      }
    }
  }
  // A slot records its listener in one octet.
  if (listeners.size() > 255) {
    return absl::InvalidArgumentError(absl::StrCat(
        config.file, ": ", listeners.size(), " distinct listen addresses and ports; at most 255"));
  }
  for (auto& [key, l] : listeners) {
    ListenerSpec spec{.address = l.address,
                      .trie = l.zones.Build(),
                      .candidates = std::move(l.zones_by_id),
                      .optional = l.optional,
                      .tls = l.tls};
    // Each zone falls back to the longest zone of the listener above it.
    for (const auto& [zone, id] : l.zone_ids) {
      if (zone.size() <= 1) continue;  // the root has none above it
      const std::span<const std::uint8_t> name(reinterpret_cast<const std::uint8_t*>(zone.data()),
                                               zone.size());
      spec.candidates[id].fallback = spec.trie.Match(name.subspan(name[0] + 1u));
    }
    table.listeners.push_back(std::move(spec));
  }
  return table;
}

}  // namespace ringdns::core
