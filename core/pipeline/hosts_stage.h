// core/pipeline/hosts_stage.h: CoreDNS's `hosts`, answering from a hosts file and the
// block's inline entries (plugin/hosts/hosts.go ServeDNS):
//   - PTR for a full in-addr.arpa / ip6.arpa name of a known address: its names, whatever
//     the zones; an unknown one passes on, whatever fallthrough says.
//   - Any other type for a name outside the zones passes on.
//   - A and AAAA: the name's addresses of that family; another type: no records.
//   - No records and a name with no address at all: passed on when fallthrough covers
//     it, else SERVFAIL (CoreDNS has no SOA to make an NXDOMAIN with).
//   - Otherwise NOERROR, authoritative, the records (perhaps none), TTL `ttl`, class IN.
// After cache in CoreDNS's order and before forward.
// Differences from CoreDNS: owner names keep the query's spelling (CoreDNS lowers them);
// the answers are not cached (CoreDNS's cache, before hosts, keeps them for their TTL, so
// there an edited file shows up to `ttl` later); more records than the query's buffer
// holds (1 960 octets) are cut with TC over UDP, as there, and are SERVFAIL over TCP,
// where CoreDNS sends them all.
// The file is read when the pipeline is built (start, reload, or a change the reload
// watch sees: core/ops/reload_watch.h), never on a shard.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/base/zone_name.h"
#include "core/config/config.h"
#include "core/pipeline/hosts_table.h"
#include "core/pipeline/query_context.h"

namespace ringdns::core {

class HostsStage {
 public:
  // `fallthrough` empty: no fallthrough.
  HostsStage(std::shared_ptr<const HostsTable> table, std::vector<WireZone> zones,
             std::vector<WireZone> fallthrough)
      : table_(std::move(table)), zones_(std::move(zones)), fallthrough_(std::move(fallthrough)) {}

  Verdict OnQuery(QueryContext& ctx) const noexcept;

  const HostsTable& table() const noexcept { return *table_; }

 private:
  Verdict Answer(QueryContext& ctx, std::span<const wire::LocalRecord> records) const noexcept;

  std::shared_ptr<const HostsTable> table_;
  std::vector<WireZone> zones_;
  std::vector<WireZone> fallthrough_;
};

// Reads `block`'s hosts file and compiles the stage. A missing file (or a folder) is a
// warning added to `warnings` and serves the inline entries alone, as in CoreDNS; a file
// that exists but cannot be read is an error with the directive's position.
absl::StatusOr<HostsStage> MakeHostsStage(const config::ServerBlock& block,
                                          std::vector<std::string>& warnings);

}  // namespace ringdns::core
