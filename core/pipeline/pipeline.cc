#include "core/pipeline/pipeline.h"

#include <algorithm>
#include <string>

#include "core/base/version.h"

namespace ringdns::core {

absl::StatusOr<Pipeline> BuildPipeline(const config::ServerBlock& block,
                                       std::vector<std::string>* warnings) {
  Pipeline p;
  // CoreDNS's plugin.cfg order: ... nsid, bufsize, ..., acl, any, chaos, loadbalance, ..., cache,
  // ..., rewrite, ..., minimal, template, ..., hosts, ..., forward, ..., whoami, ...
  if (block.nsid) {
    // The host name as chaos reads it, at load; the first answer hook in CoreDNS's
    // order, so the last to edit an answer.
    const std::string host = HostName();
    p.answer_hooks.emplace_back(
        NsidStage(block.nsid->data.value_or(host.empty() ? "localhost" : host)));
    p.nsid = true;
  }
  if (block.bufsize) {
    p.query_edits.emplace_back(BufsizeStage(*block.bufsize));
    p.bufsize = *block.bufsize;
  }
  if (!block.acls.empty()) {
    absl::StatusOr<std::vector<AclSet>> sets = CompileAcls(block.acls);
    if (!sets.ok()) return sets.status();
    p.before_cache.emplace_back(AclStage(std::move(*sets)));
  }
  if (block.any) p.before_cache.emplace_back(AnyStage());
  if (block.chaos) {
    // "localhost" if the host name cannot be read, as in CoreDNS; read at load (CoreDNS
    // reads it per query), so a renamed host shows after a reload.
    const std::string host = HostName();
    p.before_cache.emplace_back(
        ChaosStage(block.chaos->version.value_or("ringdns-" + std::string(Version())),
                   block.chaos->authors, host.empty() ? "localhost" : host));
  }
  if (block.loadbalance) p.answer_hooks.emplace_back(LoadbalanceStage());
  if (block.minimal) {
    p.answer_hooks.emplace_back(MinimalStage());
    p.minimal = true;
  }
  if (!block.rewrites.empty()) {
    absl::StatusOr<RewriteStage> rewrite = RewriteStage::Build(block.rewrites);
    if (!rewrite.ok()) return rewrite.status();
    p.rewrite.emplace(std::move(*rewrite));
  }
  if (!block.templates.empty()) {
    std::vector<std::string> zones;
    for (const config::ServerKey& key : block.keys) zones.push_back(key.zone);
    absl::StatusOr<TemplateStage> templates = TemplateStage::Build(block.templates, zones);
    if (!templates.ok()) return templates.status();
    p.after_cache.emplace_back(std::move(*templates));
  }
  if (block.hosts) {
    std::vector<std::string> ignored;
    absl::StatusOr<HostsStage> hosts =
        MakeHostsStage(block, warnings != nullptr ? *warnings : ignored);
    if (!hosts.ok()) return hosts.status();
    p.after_cache.emplace_back(*std::move(hosts));
  }
  if (block.whoami) p.after_forward.emplace_back(WhoamiStage());
  // Answer hooks run innermost (latest in CoreDNS's order) first.
  std::reverse(p.answer_hooks.begin(), p.answer_hooks.end());
  return p;
}

}  // namespace ringdns::core
