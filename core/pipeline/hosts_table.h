// core/pipeline/hosts_table.h: the names and addresses of a hosts file and of a `hosts`
// block's inline entries, compiled once into ready-made answer records.
//
// Built on the control thread (a pure function of the text: no file is read here) and
// immutable after; shards look names up with no allocation and no lock. Keys are
// lower-case uncompressed wire names; each name holds its A and AAAA records, each full
// reverse name (in-addr.arpa, ip6.arpa) its PTR records, all pointing into the table's
// own storage. The format is CoreDNS's (plugin/hosts/hostsfile.go, parse): `#` starts a
// comment; fields are split on white space; a line of fewer than two fields, or whose
// first is not an IP address, is skipped; an IPv6 zone (`%eth0`) is dropped; names are
// lower-cased and fully qualified; names outside the zones are dropped. A name listed
// twice keeps both addresses (CoreDNS does not merge them either).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "core/base/zone_name.h"
#include "wire/patch.h"

namespace ringdns::core {

struct HostsTableOptions {
  std::span<const WireZone> zones;  // only names under these are kept
  std::uint32_t ttl = 3600;
  bool reverse = true;  // PTR records for every address (CoreDNS's no_reverse turns it off)
};

class HostsTable {
 public:
  struct Addresses {
    std::span<const wire::LocalRecord> a;
    std::span<const wire::LocalRecord> aaaa;
  };

  // The file's entries, then the inline lines' (each `IP NAME...`), in that order per name.
  static std::shared_ptr<const HostsTable> Build(std::string_view file,
                                                 std::span<const std::string> inline_lines,
                                                 const HostsTableOptions& options);

  // `name`: a lower-case uncompressed wire name. nullptr when the name has no address.
  const Addresses* Find(std::span<const std::uint8_t> name) const noexcept;
  // `reverse_name`: a lower-case wire name such as 4.3.2.1.in-addr.arpa; empty when unknown.
  std::span<const wire::LocalRecord> FindPtr(
      std::span<const std::uint8_t> reverse_name) const noexcept;

  std::size_t name_count() const noexcept { return names_.size(); }

  HostsTable(const HostsTable&) = delete;
  HostsTable& operator=(const HostsTable&) = delete;

 private:
  HostsTable() = default;
  // absl's own string_view: this Abseil build does not alias std::string_view.
  static absl::string_view Key(std::span<const std::uint8_t> name) noexcept {
    return {reinterpret_cast<const char*>(name.data()), name.size()};
  }

  // Every record's rdata (addresses, PTR targets), and the records; sized once at build.
  std::vector<std::uint8_t> rdata_;
  std::vector<wire::LocalRecord> records_;
  absl::flat_hash_map<std::string, Addresses> names_;
  absl::flat_hash_map<std::string, std::span<const wire::LocalRecord>> reverse_;
};

}  // namespace ringdns::core
