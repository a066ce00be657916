// core/pipeline/rewrite_stage.h: CoreDNS's `rewrite`: a query's name, type or class
// changed before it goes on (to hosts, template, the forward), and the answer turned
// back so the client sees its own question.
//
// The query side works on the name as text, lower-cased, as CoreDNS's rules read it:
// each rule in written order matches the name as the rules before it left it; a rule
// that matches with `stop` ends the list. The question is then rewritten in place; the
// shard keeps the original question beside the query (core/shard/query_rewrites.h).
//
// The answer side re-encodes the answer (wire/rewrite_names.h): the original question
// back; owner names through the `answer name` rules (or, for exact, prefix, suffix and
// substring rules with `answer auto`, and always for exact rules, the rule run
// backwards), names in RDATA through `answer value` rules (and `auto`); TTLs of
// matched `ttl` rules clamped.
//
// Differences from CoreDNS (README row):
//  - The question is always given back, also after `continue` rules with no answer
//    rule, where CoreDNS sends the rewritten question to the client.
//  - `answer auto` with a regex rule is refused at load (CoreDNS's reverse of a regex
//    is not defined by its README); use `answer name`.
//  - `rcode` and `cname_target` rules are refused at load; for `edns0`'s, see
//    core/pipeline/rewrite_edns0.h.
//  - Response regexes see the name in lower case.
//  - A TTL rule leaves OPT alone (CoreDNS's would overwrite its extended flags).
//
// Regexes are RE2 (Go's syntax), one per rule shared by every shard, as template's are:
// its DFA cache takes a reader lock. A replacement that reads groups needs RE2's group
// search, which allocates for a regex RE2 cannot search one-pass; `(.*)LITERAL`, the
// form published rules use, is matched without it (checked against RE2 in the tests).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/config/config.h"
#include "core/pipeline/rewrite_edns0.h"
#include "wire/name.h"
#include "wire/result.h"

namespace re2 {
class RE2;
}

namespace ringdns::core {

// A query's question before the rewrite.
struct OriginalQuestion {
  std::uint8_t qname_len = 0;
  wire::NameStorage qname;
  std::uint16_t qtype = 0;
  std::uint16_t qclass = 0;
  std::span<const std::uint8_t> name() const noexcept { return {qname.data(), qname_len}; }
};

class RewriteStage {
 public:
  static absl::StatusOr<RewriteStage> Build(const std::vector<config::Rewrite>& rules);
  RewriteStage(RewriteStage&&) noexcept;
  RewriteStage& operator=(RewriteStage&&) noexcept;
  ~RewriteStage();

  enum class Outcome : std::uint8_t {
    kUnchanged,  // no rule changed the question (a ttl rule may still have matched)
    kRewritten,  // the question was rewritten in place
    kFailed,     // the new name is not a name, or the query has no room for it: SERVFAIL
                 // (the query is as it came)
  };
  struct QueryResult {
    Outcome outcome = Outcome::kUnchanged;
    std::uint32_t matched = 0;  // the rules that matched, one bit each: their answer rules apply
    std::size_t len = 0;        // the query's length after the rewrite
    std::size_t qname_len = 0;  // its question's name's length after the rewrite
    bool opt_created = false;   // an edns0 rule gave it an OPT: none goes back to the client
  };

  // Applies the rules to the query in `message` (its first `len` octets; `message.size()`
  // octets may be used), whose question is `qname`, `qtype`, `qclass` at offset 12, from
  // `origin` (edns0 rules read its address).
  QueryResult RewriteQuery(std::span<std::uint8_t> message, std::size_t len, std::size_t qname_len,
                           std::uint16_t qtype, std::uint16_t qclass,
                           const QueryOrigin& origin = {}) const noexcept;

  // `answer` re-encoded into `out` for the client: `original`'s question, and the answer
  // rules of the `matched` rules. Errors: wire::RewriteNames's.
  wire::Result<std::size_t> RevertAnswer(std::span<const std::uint8_t> answer,
                                         std::span<std::uint8_t> out,
                                         const OriginalQuestion& original,
                                         std::uint32_t matched) const noexcept;

  // Whether the answer to a query whose rules were `matched` needs re-encoding beyond its
  // question (names or TTLs).
  bool EditsAnswer(std::uint32_t matched) const noexcept { return (matched & answer_rules_) != 0; }

  // An edns0 rule gives queries their client's data (a subnet, its address, port or
  // protocol): answers in the block are the client's alone, neither cached nor shared.
  // Decided for the block, not the query: a query the rule leaves alone (no room, an
  // OPT not last) must not fill the cache the others would read.
  bool per_client() const noexcept { return per_client_; }

 private:
  struct Rule;
  RewriteStage();
  // A name of an answer through the matched rules' answer side: the new name's length
  // in `out`, or 0 to keep it. `owner`: an owner name, else a name in RDATA.
  std::size_t MapAnswerName(bool owner, std::span<const std::uint8_t> name, std::uint32_t matched,
                            wire::NameStorage& out) const noexcept;
  // The edns0 rules `hits` (one bit each) applied to the query in message[0, result.len)
  // after the question's edit; an option with no room is left out.
  void ApplyEdns0(std::uint32_t hits, std::span<std::uint8_t> message, std::string_view qname,
                  std::uint16_t qtype, const QueryOrigin& origin,
                  QueryResult& result) const noexcept;
  std::vector<Rule> rules_;
  std::uint32_t answer_rules_ = 0;  // rules with something to do to answers
  bool has_edns0_ = false;
  bool per_client_ = false;
};

}  // namespace ringdns::core
