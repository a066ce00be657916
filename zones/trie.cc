#include "zones/trie.h"

#include "wire/name.h"

namespace ringdns::zones {
namespace {

// Orders a qname label (folded on the fly) against a stored, already lower-case label:
// by length first, then bytes. Returns <0, 0, >0 like memcmp.
int CompareLabel(const std::uint8_t* qlabel, std::uint8_t qlen, const std::uint8_t* stored,
                 std::uint8_t stored_len) noexcept {
  if (qlen != stored_len) return qlen < stored_len ? -1 : 1;
  for (std::uint8_t i = 0; i < qlen; ++i) {
    const std::uint8_t a = wire::ToLowerAscii(qlabel[i]);
    if (a != stored[i]) return a < stored[i] ? -1 : 1;
  }
  return 0;
}

}  // namespace

const Trie::Edge* Trie::FindChild(const Node& node, const std::uint8_t* label,
                                  std::uint8_t len) const noexcept {
  std::uint32_t lo = node.first_edge;
  std::uint32_t hi = node.first_edge + node.edge_count;
  while (lo < hi) {
    const std::uint32_t mid = lo + (hi - lo) / 2;
    const Edge& edge = edges_[mid];
    const int c = CompareLabel(label, len, labels_.data() + edge.label_offset, edge.label_len);
    if (c == 0) return &edge;
    if (c < 0) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  return nullptr;
}

RouteId Trie::Match(std::span<const std::uint8_t> qname) const noexcept {
  if (nodes_.empty()) return kNoRoute;
  wire::LabelOffsets labels;
  const std::size_t count = wire::SplitLabels(qname, labels);
  const Node* node = &nodes_[0];
  RouteId best = node->route;
  // Suffix matching is prefix matching over the reversed labels.
  for (std::size_t i = count; i-- > 0;) {
    const std::uint8_t* label = qname.data() + labels[i];
    const Edge* edge = FindChild(*node, label + 1, label[0]);
    if (edge == nullptr) break;
    node = &nodes_[edge->child];
    if (node->route != kNoRoute) best = node->route;
  }
  return best;
}

std::size_t Trie::memory_bytes() const noexcept {
  return nodes_.capacity() * sizeof(Node) + edges_.capacity() * sizeof(Edge) + labels_.capacity();
}

}  // namespace ringdns::zones
