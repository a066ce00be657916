// core/pipeline/answer_context.h: what an answer hook of a server block's pipeline sees:
// an answer on its way to one client, in a buffer that is this client's alone, to edit
// in place. Hooks run on the shard's thread after the cache stored its copy (so a cached
// answer is edited anew for each client) and never allocate.
#pragma once

#include <cstdint>
#include <span>

#include "core/random.h"

namespace ringdns::core {

struct AnswerContext {
  // The whole answer. A hook may shorten it (minimal), never lengthen it.
  std::span<std::uint8_t> message;
  RandomPool& random;               // the shard's
};

}  // namespace ringdns::core
