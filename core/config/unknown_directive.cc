#include "core/config/unknown_directive.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace ringdns::core::config {
namespace {

// CoreDNS plugins (its plugin.cfg, and external ones often met) that answer from data of
// their own, sign or transfer zones, or need cluster state: a forwarder leaves them to
// CoreDNS.
constexpr absl::string_view kOutOfScope[] = {
    "auto", "autopath",     "azure",      "clouddns", "dnssec",  "erratic",   "etcd", "federation",
    "file", "k8s_external", "kubernetes", "nomad",    "route53", "secondary", "sign", "transfer",
};

// CoreDNS plugins a forwarder's Corefile may use that ringdns does not have yet.
constexpr absl::string_view kNotYet[] = {
    "cancel",      "dns64", "geoip", "grpc",     "header", "local", "metadata",
    "multisocket", "on",    "pprof", "timeouts", "trace",  "tsig",
};

bool In(absl::string_view name, const auto& list) {
  return std::find(std::begin(list), std::end(list), name) != std::end(list);
}

// Edits from one name to the other: a letter added, dropped, changed, or two neighbours
// swapped (optimal string alignment), for names of a few letters.
std::size_t Distance(absl::string_view a, absl::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min(
          {d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.size()][b.size()];
}

}  // namespace

std::string UnknownDirectiveMessage(absl::string_view name, absl::string_view supported) {
  const std::string head = absl::StrCat("unknown directive '", name, "'");
  if (In(name, kOutOfScope)) {
    return absl::StrCat(
        head,
        ": a CoreDNS plugin that serves names itself, outside a forwarder's scope; keep this "
        "block on CoreDNS and have ringdns forward to it");
  }
  if (In(name, kNotYet)) {
    return absl::StrCat(head, ": a CoreDNS plugin ringdns does not have yet; ringdns supports ",
                        supported);
  }
  // The nearest supported directive, if a slip of a letter or two away (one for short names).
  absl::string_view nearest;
  std::size_t best = name.size() <= 4 ? 2 : 3;
  for (absl::string_view candidate : absl::StrSplit(supported, ", ")) {
    const std::size_t d = Distance(name, candidate);
    if (d < best) {
      best = d;
      nearest = candidate;
    }
  }
  if (!nearest.empty())
    return absl::StrCat(head, "; did you mean '", nearest, "'? ringdns supports ", supported);
  return absl::StrCat(head, "; ringdns supports ", supported);
}

}  // namespace ringdns::core::config
