#include "core/buffers/query_buffers.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "core/base/invariant.h"
#include "core/shard/shard_layout.h"

namespace ringdns::core {

using namespace layout;

absl::Status QueryBuffers::Init(ring::Ring& ring, std::uint16_t group, const Counts& counts) {
  const std::uint32_t all = counts.received + counts.refresh + counts.tcp;
  if (all > kNone)
    return absl::InvalidArgumentError(absl::StrCat("too many query buffers (", all, ")"));
  if (const int rc =
          provided_.Init(ring, group, counts.received, kQueryBufferSize, kFirstProvidedBuffers);
      rc < 0) {
    return absl::UnavailableError(absl::StrCat("provided buffer ring: ", std::strerror(-rc)));
  }
  counts_ = counts;
  first_tcp_ = counts.received + counts.refresh;
  owned_ = ReservedBytes(std::size_t{counts.refresh + counts.tcp} * kQueryBufferSize);
  scratch_ = ReservedBytes(std::size_t{all} * kUpstreamScratch);
  holders_.assign(all, 0);
  // Lowest ids on top: taken first, so a light load touches the fewest pages.
  refresh_free_.reserve(counts.refresh);
  for (std::uint32_t i = first_tcp_; i-- > counts.received;)
    refresh_free_.push_back(static_cast<std::uint16_t>(i));
  tcp_free_.reserve(counts.tcp);
  for (std::uint32_t i = all; i-- > first_tcp_;) tcp_free_.push_back(static_cast<std::uint16_t>(i));
  return absl::OkStatus();
}

std::uint8_t* QueryBuffers::Payload(std::uint16_t id) noexcept {
  if (id < counts_.received) return provided_.Buffer(id).data() + kPayloadOffset;
  return owned_.data() + std::size_t{id - counts_.received} * kQueryBufferSize + kPayloadOffset;
}

std::uint8_t* QueryBuffers::Scratch(std::uint16_t id) noexcept {
  return scratch_.data() + std::size_t{id} * kUpstreamScratch;
}

void QueryBuffers::Release(std::uint16_t id) noexcept {
  if (!RINGDNS_INVARIANT(id < holders_.size() &&
                         holders_[id] > 0)) {  // released twice: in its pool already
    ++violations_;
    return;
  }
  if (--holders_[id] != 0) return;
  switch (KindOf(id)) {
    case Kind::kReceived: return provided_.Recycle(id);
    case Kind::kRefresh: return refresh_free_.push_back(id);
    case Kind::kTcp: return tcp_free_.push_back(id);
  }
}

std::uint16_t QueryBuffers::TakeFrom(std::vector<std::uint16_t>& free) noexcept {
  if (free.empty()) return kNone;
  const std::uint16_t id = free.back();
  free.pop_back();
  holders_[id] = 1;
  return id;
}

}  // namespace ringdns::core
