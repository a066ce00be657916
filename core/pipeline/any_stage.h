// core/pipeline/any_stage.h: CoreDNS's `any` (RFC 8482): a query for type ANY gets a
// minimal answer, one HINFO record ("ANY obsoleted" "See RFC 8482", TTL 8482) for the
// question's name, instead of everything the name has. Other types pass on.
#pragma once

#include "core/pipeline/query_context.h"

namespace ringdns::core {

class AnyStage {
 public:
  Verdict OnQuery(QueryContext& ctx) const noexcept;
};

}  // namespace ringdns::core
