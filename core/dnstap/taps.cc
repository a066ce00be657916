#include "core/dnstap/taps.h"

#include "absl/strings/str_cat.h"
#include "core/base/version.h"

namespace ringdns::core::dnstap {
namespace {

CollectorAddress AddressOf(const config::Dnstap& d) {
  CollectorAddress a;
  a.unix_path = d.unix_path;
  if (d.unix_path.empty()) {
    a.tcp_host = d.tcp_host.empty() ? d.tcp_address.ToString() : d.tcp_host;
    a.tcp_port = d.tcp_port;
  }
  return a;
}

}  // namespace

absl::StatusOr<std::vector<std::vector<Tap>>> BindTaps(const RouteTable& routes,
                                                       CollectorPool& pool) {
  std::vector<std::vector<Tap>> taps;
  bool any = false;
  for (const BlockRoute& block : routes.blocks) {
    std::vector<Tap>& block_taps = taps.emplace_back();
    for (const config::Dnstap& d : block.dnstaps) {
      absl::StatusOr<std::shared_ptr<Collector>> collector = pool.Get(AddressOf(d));
      if (!collector.ok()) {
        return absl::Status(collector.status().code(),
                            absl::StrCat(d.where.ToString(), ": ", collector.status().message()));
      }
      const TapLabels labels{d.identity.value_or(HostName()),
                             d.version.value_or(absl::StrCat("ringdns-", std::string(Version()))),
                             d.extra};
      block_taps.push_back(Tap{std::move(*collector), FrameEncoder(labels, d.full)});
      any = true;
    }
  }
  if (!any) taps.clear();
  return taps;
}

}  // namespace ringdns::core::dnstap
