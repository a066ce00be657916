// rewrite on a shard: the block's rules applied to a query as it arrives. What the edit
// leaves behind (the stashed question, the answers re-encoded for the client) is
// QueryRewrites's (core/shard/query_rewrites.h).
#include <optional>

#include "core/shard/shard_layout.h"
#include "core/shard/shard_reactor.h"

namespace ringdns::core {

using layout::kQueryRoom;

bool ShardReactor::ApplyRewrite(Client& client, std::span<std::uint8_t> query,
                                const wire::QueryView& q, zones::RouteId route, Lookup& lookup,
                                OriginalQuestion& original, std::optional<wire::QueryView>& edited,
                                bool& edited_in_place) noexcept {
  original = rewrites_.QuestionOf(client.bid, q);
  const RewriteStage::QueryResult r =
      lookup.rewrite->RewriteQuery({query.data(), kQueryRoom}, q.size, q.qname_len, q.qtype,
                                   q.qclass, {client.addr, client.tcp()});
  if (r.outcome == RewriteStage::Outcome::kFailed) return false;  // the query is as it came
  if (r.outcome == RewriteStage::Outcome::kRewritten) {
    edited_in_place = true;
    client.query_len = static_cast<std::uint16_t>(r.len);
    client.qname_len = static_cast<std::uint16_t>(r.qname_len);
    client.opt_added = r.opt_created;
    const wire::Result<wire::QueryView> parsed = wire::ParseQuery(query.first(r.len));
    // A pointer of a later record into the question no longer lands on a label.
    if (!parsed) return false;
    ++counters_.rewrites;
    edited = *parsed;
    client.qtype = edited->qtype;
    lookup.qname = edited->qname(query.first(r.len));
    lookup.forward = routes_.PickForward(route, lookup.qname);
  }
  if (edited_in_place || lookup.rewrite->EditsAnswer(r.matched)) {
    client.rewrite = lookup.rewrite;
    client.rewrite_matched = r.matched;
    rewrites_.Stash(client.bid, original);
  }
  return true;
}

}  // namespace ringdns::core
