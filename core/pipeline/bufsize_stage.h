// core/pipeline/bufsize_stage.h: CoreDNS's `bufsize [SIZE]`. A query whose OPT offers a
// UDP payload size above SIZE is lowered to SIZE in place, before anything else sees it:
// the forward asks the upstream with SIZE, and an answer to the client over UDP is cut to
// fit SIZE (TC set, as RFC 2181 section 9 has it). Queries without an OPT, and sizes at
// or below SIZE, are left as they are: bufsize never raises a size or adds an OPT.
#pragma once

#include <cstdint>

#include "core/pipeline/query_context.h"

namespace ringdns::core {

class BufsizeStage {
 public:
  explicit BufsizeStage(std::uint16_t size) : size_(size) {}

  Verdict OnQuery(QueryContext& ctx) const noexcept;

 private:
  std::uint16_t size_;  // 512 to 4096, checked by the config
};

}  // namespace ringdns::core
