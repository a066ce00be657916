#include "core/pipeline/pipeline.h"

namespace ringdns::core {

absl::StatusOr<Pipeline> BuildPipeline(const config::ServerBlock& block) {
  Pipeline p;
  // CoreDNS's plugin.cfg order: ... acl, any, chaos, loadbalance, ..., cache, ...
  if (!block.acls.empty()) {
    absl::StatusOr<std::vector<AclSet>> sets = CompileAcls(block.acls);
    if (!sets.ok()) return sets.status();
    p.before_cache.emplace_back(AclStage(std::move(*sets)));
  }
  if (block.any) p.before_cache.emplace_back(AnyStage());
  return p;
}

}  // namespace ringdns::core
