// core/pipeline/template_stage.h: CoreDNS's `template CLASS TYPE [ZONE...] { ... }`.
// A query in one of a template's zones, of its class and type (ANY on either side
// matches), whose name (lower case, with its final dot) a `match` regex finds (RE2, Go's
// syntax; the first that matches wins; ".*" without one), is answered by the template:
// AA set, its rcode, and the records its answer, authority and additional templates
// render (zone-file text, wire/rr_text.h), with its ederror as an RFC 8914 EDE when the
// query has EDNS. `rcode SERVFAIL` answers SERVFAIL alone. A name in the zones that no
// regex matches goes on when `fallthrough` covers it, else is answered NXDOMAIN; a query
// outside every template's zones, or of another class or type, goes on to the next one.
// A template whose text does not render to a record answers SERVFAIL (template_failures).
//
// Differences from CoreDNS: where no regex matches and no fallthrough applies, CoreDNS
// returns NXDOMAIN to its server without writing an answer (so its client waits for a
// timeout); ringdns sends the NXDOMAIN. `upstream` and `edns local` are refused at load.
// Like the other stages' answers, a template's is not cached (CoreDNS's cache, before
// template in its order, stores it).
//
// On the packet path the stage renders into stack buffers and writes the answer in place.
// A template with `match` runs RE2, which may take its own lock and allocate inside a
// search (core/pipeline/template_stage.cc says when); one without runs neither.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/config/config.h"
#include "core/pipeline/query_context.h"

namespace ringdns::core {

class TemplateStage {
 public:
  // Compiles the block's templates; `block_zones` are the zones of those without their own.
  static absl::StatusOr<TemplateStage> Build(const std::vector<config::Template>& templates,
                                             const std::vector<std::string>& block_zones);

  Verdict OnQuery(QueryContext& ctx) const noexcept;

  struct Compiled;  // template_stage.cc

 private:
  std::shared_ptr<const Compiled> compiled_;  // shared: a Stage is copied into each route
};

}  // namespace ringdns::core
