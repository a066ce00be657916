// zones/trie.h: the compiled suffix trie that maps a wire qname to the route of the
// longest zone containing it.
//
// Built once by TrieBuilder (control thread) and immutable afterwards, so any number of
// shards may call Match concurrently without synchronisation. The trie is three
// contiguous arrays: nodes, edges (each node's children sorted by label length, then
// bytes), and the lower-cased label bytes. Match walks the qname's labels from the last
// to the first, in place, case-insensitively, on label boundaries only, and never
// allocates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "zones/route.h"

namespace ringdns::zones {

class Trie {
 public:
  Trie() = default;  // an empty trie matches nothing

  // Returns the route of the longest zone that `qname` (a validated, uncompressed wire
  // name, e.g. QueryView::qname) falls under, or kNoRoute.
  RouteId Match(std::span<const std::uint8_t> qname) const noexcept;

  std::size_t zone_count() const noexcept { return zone_count_; }
  std::size_t node_count() const noexcept { return nodes_.size(); }
  // Bytes held by the compiled arrays.
  std::size_t memory_bytes() const noexcept;

 private:
  friend class TrieBuilder;

  struct Node {
    std::uint32_t first_edge;
    std::uint32_t edge_count;
    RouteId route;  // kNoRoute when no zone ends here
  };
  struct Edge {
    std::uint32_t label_offset;  // into labels_
    std::uint32_t child;         // index into nodes_
    std::uint8_t label_len;
  };
  static_assert(sizeof(Node) == 12);
  static_assert(sizeof(Edge) == 12);

  const Edge* FindChild(const Node& node, const std::uint8_t* label,
                        std::uint8_t len) const noexcept;

  std::vector<Node> nodes_;  // nodes_[0] is the root
  std::vector<Edge> edges_;
  std::vector<std::uint8_t> labels_;
  std::size_t zone_count_ = 0;
};

}  // namespace ringdns::zones
