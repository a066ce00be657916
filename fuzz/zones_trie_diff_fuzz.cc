// Differential fuzzing of the compiled trie against a naive matcher that lower-cases
// both names and compares label suffixes over a list. Input: a message-like blob; the
// first octet is the zone count, then that many wire names (the zones), then one wire
// name (the qname). Any name that does not validate ends the input.
#include <cstdint>
#include <vector>

#include "fuzz_check.h"
#include "wire/name.h"
#include "zones/trie_builder.h"

using namespace ringdns;

namespace {

using Labels = std::vector<std::vector<std::uint8_t>>;

Labels LowerLabels(std::span<const std::uint8_t> name) {
  Labels out;
  std::size_t pos = 0;
  while (name[pos] != 0) {
    std::vector<std::uint8_t> label;
    for (std::size_t i = 1; i <= name[pos]; ++i) label.push_back(wire::ToLowerAscii(name[pos + i]));
    out.push_back(label);
    pos += std::size_t{name[pos]} + 1;
  }
  return out;
}

zones::RouteId NaiveMatch(const std::vector<std::pair<Labels, zones::RouteId>>& zones,
                          const Labels& q) {
  zones::RouteId best = zones::kNoRoute;
  std::size_t best_len = 0;
  for (const auto& [z, route] : zones) {
    if (z.size() > q.size()) continue;
    bool suffix = true;
    for (std::size_t i = 0; i < z.size() && suffix; ++i) {
      suffix = z[z.size() - 1 - i] == q[q.size() - 1 - i];
    }
    if (suffix && (best == zones::kNoRoute || z.size() > best_len)) {
      best = route;
      best_len = z.size();
    }
  }
  return best;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::vector<std::uint8_t> input(data, data + size);
  if (input.empty()) return 0;
  const std::size_t zone_count = input[0] % 16;
  std::size_t pos = 1;
  zones::TrieBuilder builder;
  std::vector<std::pair<Labels, zones::RouteId>> naive;
  const std::span<const std::uint8_t> bytes(input);
  for (std::size_t i = 0; i <= zone_count; ++i) {
    const wire::Result<std::size_t> len = wire::ScanUncompressedName(bytes, pos);
    if (!len) return 0;
    const std::span<const std::uint8_t> name = bytes.subspan(pos, *len);
    pos += *len;
    if (i < zone_count) {
      const auto route = static_cast<zones::RouteId>(i);
      if (builder.Add(name, route) == zones::AddStatus::kAdded) {
        naive.emplace_back(LowerLabels(name), route);
      }
      continue;
    }
    const zones::Trie trie = builder.Build();
    FUZZ_CHECK(trie.Match(name) == NaiveMatch(naive, LowerLabels(name)));
  }
  return 0;
}
