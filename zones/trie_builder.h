// zones/trie_builder.h: compiles a set of zones into an immutable Trie.
//
// Control thread only: it allocates freely. Zones are given as wire names or as
// presentation text ("remote.svc.cluster.local", "a\.b.example.", "."); case is folded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "wire/result.h"
#include "zones/route.h"
#include "zones/trie.h"

namespace ringdns::zones {

enum class AddStatus : std::uint8_t { kAdded, kDuplicate };

class TrieBuilder {
 public:
  // Adds a zone as a validated uncompressed wire name. A zone added twice keeps its first
  // route and reports kDuplicate.
  AddStatus Add(std::span<const std::uint8_t> zone, RouteId route);

  // Parses `zone` as presentation text, then adds it. Errors: those of NameFromText.
  wire::Result<AddStatus> AddText(std::string_view zone, RouteId route);

  // Compiles the zones added so far. The builder stays usable.
  Trie Build() const;

  std::size_t zone_count() const noexcept { return zones_.size(); }

 private:
  // Lower-cased labels from the root down, e.g. {"local","cluster","svc","remote"}.
  using ReversedLabels = std::vector<std::string>;
  std::map<ReversedLabels, RouteId> zones_;
};

}  // namespace ringdns::zones
