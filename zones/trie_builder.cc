#include "zones/trie_builder.h"

#include <deque>
#include <memory>

#include "wire/name.h"

namespace ringdns::zones {
namespace {

// The order Trie::FindChild binary-searches in: length first, then bytes.
struct LabelOrder {
  bool operator()(const std::string& a, const std::string& b) const {
    if (a.size() != b.size()) return a.size() < b.size();
    return a < b;
  }
};

struct TempNode {
  RouteId route = kNoRoute;
  std::map<std::string, std::unique_ptr<TempNode>, LabelOrder> children;
};

}  // namespace

AddStatus TrieBuilder::Add(std::span<const std::uint8_t> zone, RouteId route) {
  wire::LabelOffsets offsets;
  const std::size_t count = wire::SplitLabels(zone, offsets);
  ReversedLabels labels;
  labels.reserve(count);
  for (std::size_t i = count; i-- > 0;) {
    const std::uint8_t* label = zone.data() + offsets[i];
    std::string folded(label[0], '\0');
    for (std::size_t j = 0; j < folded.size(); ++j) {
      folded[j] = static_cast<char>(wire::ToLowerAscii(label[1 + j]));
    }
    labels.push_back(std::move(folded));
  }
  const bool inserted = zones_.emplace(std::move(labels), route).second;
  return inserted ? AddStatus::kAdded : AddStatus::kDuplicate;
}

wire::Result<AddStatus> TrieBuilder::AddText(std::string_view zone, RouteId route) {
  wire::NameStorage storage;
  const wire::Result<std::size_t> len = wire::NameFromText(zone, storage);
  if (!len) return len.error();
  return Add(std::span<const std::uint8_t>(storage.data(), *len), route);
}

Trie TrieBuilder::Build() const {
  TempNode root;
  for (const auto& [labels, route] : zones_) {
    TempNode* node = &root;
    for (const std::string& label : labels) {
      std::unique_ptr<TempNode>& child = node->children[label];
      if (!child) child = std::make_unique<TempNode>();
      node = child.get();
    }
    node->route = route;
  }

  // Breadth-first, so that every node's children are contiguous in edges_.
  Trie trie;
  trie.zone_count_ = zones_.size();
  std::deque<const TempNode*> queue{&root};
  trie.nodes_.push_back({0, 0, root.route});
  for (std::size_t index = 0; !queue.empty(); ++index) {
    const TempNode* temp = queue.front();
    queue.pop_front();
    // By index, not reference: the pushes below may move nodes_.
    trie.nodes_[index].first_edge = static_cast<std::uint32_t>(trie.edges_.size());
    trie.nodes_[index].edge_count = static_cast<std::uint32_t>(temp->children.size());
    for (const auto& [label, child] : temp->children) {
      Trie::Edge edge{};
      edge.label_offset = static_cast<std::uint32_t>(trie.labels_.size());
      edge.label_len = static_cast<std::uint8_t>(label.size());
      edge.child = static_cast<std::uint32_t>(trie.nodes_.size());
      trie.labels_.insert(trie.labels_.end(), label.begin(), label.end());
      trie.edges_.push_back(edge);
      trie.nodes_.push_back({0, 0, child->route});
      queue.push_back(child.get());
    }
  }
  trie.nodes_.shrink_to_fit();
  trie.edges_.shrink_to_fit();
  trie.labels_.shrink_to_fit();
  return trie;
}

}  // namespace ringdns::zones
