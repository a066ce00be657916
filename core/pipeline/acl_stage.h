// core/pipeline/acl_stage.h: CoreDNS's `acl` as a pipeline stage: the first matching rule
// of the block's rule sets (core/pipeline/acl.h) allows the query on, blocks it (REFUSED with EDE
// 18 "Prohibited"), filters it (empty NOERROR with EDE 17 "Filtered") or drops it.
#pragma once

#include <vector>

#include "core/pipeline/acl.h"
#include "core/pipeline/query_context.h"

namespace ringdns::core {

class AclStage {
 public:
  explicit AclStage(std::vector<AclSet> sets) : sets_(std::move(sets)) {}
  Verdict OnQuery(QueryContext& ctx) const noexcept;

 private:
  std::vector<AclSet> sets_;
};

}  // namespace ringdns::core
