// core/pipeline/nsid_stage.h: CoreDNS's `nsid [DATA]`, the Name Server Identifier of
// RFC 5001. An answer to a query whose OPT holds an NSID option gets one NSID option
// whose data is DATA's octets (what `dig +nsid` prints), in place of any the upstream
// put there; answers to other queries are left as they are. It is the last answer hook
// to run, as nsid comes first in CoreDNS's plugin.cfg, so cached answers, forwarded
// ones, local stages' answers and errors all get it. Built at load (DATA copied once);
// the hook runs on the shard's thread, one walk of the answer, and never allocates.
//
// Differences from CoreDNS, which rebuilds the message: the option is added only where
// the answer has room, so an answer the client's UDP size leaves no room in goes without
// it (CoreDNS sends it larger than the client asked for); an answer without an OPT, or
// whose OPT is not its last record (a TSIG signs the octets after it), is left alone
// (CoreDNS adds an OPT with DO set). The shard does not pass the NSID request upstream
// (CoreDNS does): the cache keeps an answer's OPT, and would hand an upstream's NSID to
// clients that did not ask. One an upstream sends all the same is dropped and ours put
// last in the OPT, where CoreDNS overwrites it where it was.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "core/pipeline/answer_context.h"

namespace ringdns::core {

class NsidStage {
 public:
  explicit NsidStage(std::string data) : data_(std::move(data)) {}

  void OnAnswer(AnswerContext& ctx) const noexcept {
    // Not message.first(): the answer may come out longer.
    if (ctx.nsid_requested)
      ctx.message = {ctx.message.data(), SetNsid(ctx.message, ctx.room, data_)};
  }

  // Sets the NSID option of `answer` to `data` and returns the answer's new length, which
  // may reach into `room` (which starts where `answer` does). Leaves it as it was (its
  // old length) when it is not sound or has no OPT last; drops an NSID it held when
  // `data` does not fit.
  static std::size_t SetNsid(std::span<std::uint8_t> answer, std::span<std::uint8_t> room,
                             std::string_view data) noexcept;

 private:
  std::string data_;
};

}  // namespace ringdns::core
