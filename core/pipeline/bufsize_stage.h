// core/pipeline/bufsize_stage.h: CoreDNS's `bufsize [SIZE]`. A query whose OPT offers a
// UDP payload size above SIZE is lowered to SIZE in place, before anything else sees it
// (dnstap included): the forward asks the upstream with SIZE, and an answer to the client
// over UDP is cut to fit SIZE (TC set, as RFC 2181 section 9 has it). Queries without an
// OPT, and sizes at or below SIZE, are left as they are: bufsize never raises a size or
// adds an OPT. Cache refreshes ringdns sends for the block ask with SIZE too. A query
// signed with TSIG keeps its octets (the MAC covers them): only its answer is cut to SIZE.
#pragma once

#include <cstdint>
#include <span>

#include "core/pipeline/query_context.h"
#include "wire/edns.h"

namespace ringdns::core {

class BufsizeStage {
 public:
  explicit BufsizeStage(std::uint16_t size) : size_(size) {}

  Verdict OnQuery(QueryContext& ctx) const noexcept;

  // Writes `size` into `message`'s OPT (`opt`, parsed from it) when it offers more and the
  // OPT is the additional section's only record. Returns whether it wrote.
  static bool Lower(std::span<std::uint8_t> message, const wire::OptView& opt,
                    std::uint16_t size) noexcept;

 private:
  std::uint16_t size_;  // 512 to 4096, checked by the config
};

}  // namespace ringdns::core
