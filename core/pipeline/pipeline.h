// core/pipeline/pipeline.h: a server block's query pipeline, compiled from its Corefile
// directives at load time and run per query without allocation or virtual calls.
//
// Stages keep CoreDNS's plugin order (its plugin.cfg), whatever order the Corefile lists
// them in. The shard's own steps sit at fixed places in that order:
//
//   before_cache stages -> cache -> after_cache stages -> forward
//
// A stage is a class with `Verdict OnQuery(QueryContext&) const noexcept`. Adding one is
// a new file in core/pipeline/, its type in `Stage` below, and one line in BuildPipeline
// (pipeline.cc) where the block's directive puts it in order.
#pragma once

#include <span>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "core/config/config.h"
#include "core/pipeline/acl_stage.h"
#include "core/pipeline/any_stage.h"
#include "core/pipeline/query_context.h"

namespace ringdns::core {

using Stage = std::variant<AclStage, AnyStage>;

struct Pipeline {
  std::vector<Stage> before_cache;  // acl, any: they answer before a cached answer would
  std::vector<Stage> after_cache;   // what answers in place of the forward (none yet)

  // Runs `stages` in order until one answers or drops the query; kNext when none did.
  static Verdict Run(std::span<const Stage> stages, QueryContext& ctx) noexcept {
    for (const Stage& stage : stages) {
      const Verdict v = std::visit([&](const auto& s) { return s.OnQuery(ctx); }, stage);
      if (v != Verdict::kNext) return v;
    }
    return Verdict::kNext;
  }
};

// Compiles `block`'s stages. Errors: a directive whose arguments compile to nothing
// usable (an acl zone that is not a name), with its position.
absl::StatusOr<Pipeline> BuildPipeline(const config::ServerBlock& block);

}  // namespace ringdns::core
