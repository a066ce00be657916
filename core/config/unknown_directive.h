// core/config/unknown_directive.h: what to tell a user whose Corefile names a directive
// ringdns does not have.
//
// A CoreDNS plugin that serves names itself (kubernetes, file, etcd, ...) is outside a
// forwarder's scope: the answer is to keep that block on CoreDNS and forward to it. One
// that ringdns does not have yet says so. A name a letter or two from a directive ringdns
// has gets a "did you mean". Every message starts "unknown directive 'NAME'".
#pragma once

#include <string>

#include "absl/strings/string_view.h"

namespace ringdns::core::config {

// `supported`: the directives ringdns has, comma-separated, as listed in messages.
std::string UnknownDirectiveMessage(absl::string_view name, absl::string_view supported);

}  // namespace ringdns::core::config
