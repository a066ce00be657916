// core/pipeline/answer_context.h: what an answer hook of a server block's pipeline sees:
// an answer on its way to one client, in a buffer that is this client's alone, to edit
// in place. Hooks run on the shard's thread after the cache stored its copy (so a cached
// answer is edited anew for each client) and after the answer was cut to the client's
// UDP size, and never allocate.
#pragma once

#include <cstdint>
#include <span>

#include "core/base/random.h"

namespace ringdns::core {

struct AnswerContext {
  // The whole answer. A hook may shorten it (minimal), and lengthen it only into `room`.
  std::span<std::uint8_t> message;
  RandomPool& random;  // the shard's
  // What the answer may grow to, starting at message.data(): the free octets of its
  // buffer, and for a UDP client no more than its UDP size, since answers are cut before
  // the hooks run. Empty (or no longer than `message`): it may not grow.
  std::span<std::uint8_t> room = {};
  bool nsid_requested = false;  // the query's OPT held an NSID option (RFC 5001): for nsid
};

}  // namespace ringdns::core
