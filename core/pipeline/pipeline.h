// core/pipeline/pipeline.h: a server block's query pipeline, compiled from its Corefile
// directives at load time and run per query without allocation or virtual calls.
//
// Stages keep CoreDNS's plugin order (its plugin.cfg), whatever order the Corefile lists
// them in. The shard's own steps sit at fixed places in that order:
//
//   query_edits -> (dnstap, metrics) -> before_cache stages -> cache -> rewrite
//   -> after_cache stages -> forward -> after_forward stages
//
// after_forward stages see only the queries no forward of the block takes.
//
// A stage is a class with a query hook, `Verdict OnQuery(QueryContext&) const noexcept`,
// an answer hook, `void OnAnswer(AnswerContext&) const noexcept`, or both. Adding one is
// a new file in core/pipeline/, its type in `Stage` below, and one line in BuildPipeline
// (pipeline.cc) where the block's directive puts it in order.
#pragma once

#include <optional>
#include <span>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "core/config/config.h"
#include "core/pipeline/acl_stage.h"
#include "core/pipeline/answer_context.h"
#include "core/pipeline/any_stage.h"
#include "core/pipeline/bufsize_stage.h"
#include "core/pipeline/chaos_stage.h"
#include "core/pipeline/hosts_stage.h"
#include "core/pipeline/loadbalance_stage.h"
#include "core/pipeline/minimal_stage.h"
#include "core/pipeline/nsid_stage.h"
#include "core/pipeline/query_context.h"
#include "core/pipeline/rewrite_stage.h"
#include "core/pipeline/template_stage.h"
#include "core/pipeline/whoami_stage.h"

namespace ringdns::core {

using Stage = std::variant<AclStage, AnyStage, BufsizeStage, ChaosStage, HostsStage,
                           LoadbalanceStage, MinimalStage, NsidStage, TemplateStage, WhoamiStage>;

struct Pipeline {
  std::vector<Stage> query_edits;   // bufsize: before dnstap and the rest see the query
  std::vector<Stage> before_cache;  // acl, any, chaos: before a cached answer would
  // rewrite: after the cache (which keeps answers under the client's question), before
  // the after_cache stages and the forward, which see the rewritten query.
  std::optional<RewriteStage> rewrite;
  std::vector<Stage> after_cache;    // template, hosts: what answers in place of the forward
  std::vector<Stage> after_forward;  // whoami: what no forward takes
  // The stages with an answer hook, in the order they see an answer: the last in
  // CoreDNS's order first, as each plugin's writer wraps the ones after it.
  std::vector<Stage> answer_hooks;
  // bufsize's SIZE, 0 without one: ringdns's own queries for the block (cache refreshes)
  // ask with it too.
  std::uint16_t bufsize = 0;
  bool minimal = false;  // answers are made minimal before they are cut for UDP, too
  // nsid: the shard notes which queries ask for an NSID (AnswerContext::nsid_requested).
  bool nsid = false;

  // Runs the query hooks of `stages` in order until one answers or drops the query;
  // kNext when none did.
  static Verdict Run(std::span<const Stage> stages, QueryContext& ctx) noexcept {
    for (const Stage& stage : stages) {
      const Verdict v = std::visit(
          [&](const auto& s) {
            if constexpr (requires { s.OnQuery(ctx); }) {
              return s.OnQuery(ctx);
            } else {
              return Verdict::kNext;
            }
          },
          stage);
      if (v != Verdict::kNext) return v;
    }
    return Verdict::kNext;
  }

  // Runs the answer hooks of `stages` in order on one answer.
  static void RunAnswer(std::span<const Stage> stages, AnswerContext& ctx) noexcept {
    for (const Stage& stage : stages) {
      std::visit(
          [&](const auto& s) {
            if constexpr (requires { s.OnAnswer(ctx); }) s.OnAnswer(ctx);
          },
          stage);
    }
  }
};

// Compiles `block`'s stages, reading the files they serve (hosts). Errors: a directive
// whose arguments compile to nothing usable (an acl zone that is not a name), a file that
// exists but cannot be read, with its position. What serves less than written (a missing
// hosts file) is added to `warnings` when given.
absl::StatusOr<Pipeline> BuildPipeline(const config::ServerBlock& block,
                                       std::vector<std::string>* warnings = nullptr);

}  // namespace ringdns::core
