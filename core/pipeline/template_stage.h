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
// Differences from CoreDNS:
// - Where no regex matches and no fallthrough applies, CoreDNS returns NXDOMAIN to its
//   server without writing an answer (its client waits for a timeout); ringdns sends it.
// - A templated CNAME answering an A or AAAA query is sent alone: CoreDNS also looks its
//   target up and adds those records. `upstream` is accepted and ignored, as in current
//   CoreDNS; `edns local` is refused at load.
// - The answer is written in the query's buffer (1 960 octets): over UDP what does not fit
//   is left out with TC set; over TCP such an answer is SERVFAIL (template_failures).
// - RA is set, as on every answer ringdns writes (CoreDNS's SetReply leaves it clear); the
//   EDE goes only to a query with EDNS (CoreDNS adds an OPT to one without).
// - .Name escapes as RFC 1035 section 5.1 does (a space is \032, '$' is \$), where
//   miekg/dns writes "\ " and leaves '$' alone; a regex sees those spellings.
// - Like the other stages' answers, a template's is not cached (CoreDNS's cache, before
//   template in its order, stores it).
//
// On the packet path the stage renders into stack buffers and writes the answer in place.
// A template with `match` runs RE2, which may allocate inside a search (a regex it cannot
// run one-pass with at most four groups; template_stage.cc) and takes a reader lock on its
// DFA's state cache, which every shard shares: one RE2 per regex, not per shard. A
// template without `match` runs neither.
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
