// core/pipeline/loadbalance_stage.h: CoreDNS's `loadbalance [round_robin]`: the address
// records of each answer are shuffled for each client, so that clients spread over the
// addresses of a name.
//
// Done in place without moving a record: within one section, A records (and AAAA records)
// whose owner names are written alike exchange their addresses at random (Fisher-Yates).
// Every name, pointer and length stays where it was, so the message stays valid octet
// for octet. Differences from CoreDNS, which rebuilds the message: the order of record
// types is kept (CoreDNS moves CNAMEs first and addresses after the other types), and MX
// records are not shuffled (their exchange names may be compressed against each other,
// and a client picks by preference anyway, RFC 5321 section 5.1). Only NOERROR answers
// are touched, never AXFR or IXFR, as in CoreDNS, and (unlike CoreDNS) never a message
// signed whole with TSIG or SIG(0). `loadbalance weighted` is refused at load time.
#pragma once

#include "core/pipeline/answer_context.h"

namespace ringdns::core {

class LoadbalanceStage {
 public:
  void OnAnswer(AnswerContext& ctx) const noexcept;
};

}  // namespace ringdns::core
