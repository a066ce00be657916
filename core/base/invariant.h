// core/base/invariant.h: how ringdns states what cannot happen.
//
// RINGDNS_INVARIANT(cond) is true when `cond` holds. In debug and sanitizer builds
// (RINGDNS_CHECK_INVARIANTS, set by cmake/RingdnsHelpers.cmake) a false `cond` aborts
// with the condition, file and line, so the test that reached it fails at the spot. In
// release builds it is just `cond`: the caller recovers (skips the step that would
// corrupt a pool) and counts it in ShardCounters::invariant_violations, and the server
// keeps serving. Use it where checking is cheap, never for what a peer can cause (that
// is input, answered or counted as such).
//
//   if (!RINGDNS_INVARIANT(holders_[id] > 0)) {  // released twice: the pool stays as it is
//     violations_.Add(1);
//     return;
//   }
#pragma once

namespace ringdns::core {

[[noreturn]] void InvariantFailed(const char* condition, const char* file, int line) noexcept;

}  // namespace ringdns::core

#ifdef RINGDNS_CHECK_INVARIANTS
#define RINGDNS_INVARIANT(cond)   \
  (static_cast<bool>(cond) ? true \
                           : (::ringdns::core::InvariantFailed(#cond, __FILE__, __LINE__), false))
#else
#define RINGDNS_INVARIANT(cond) static_cast<bool>(cond)
#endif
