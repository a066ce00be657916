#include "core/upstream/cookie_jar.h"

#include <algorithm>
#include <cstring>

namespace ringdns::core {

CookieJar::CookieJar(std::uint32_t upstreams, RandomPool& random)
    : entries_(std::make_unique<Entry[]>(upstreams)) {
  for (std::uint32_t i = 0; i < upstreams; ++i) {
    const std::uint64_t client = random.Next64();
    std::memcpy(entries_[i].client, &client, sizeof client);
    Encode(entries_[i], {});
  }
}

CookieJar::Verdict CookieJar::Judge(std::uint32_t upstream, const wire::FoundCookie& found,
                                    std::int64_t now_ms) noexcept {
  Entry& e = entries_[upstream];
  using Status = wire::FoundCookie::Status;
  const bool ours =
      found.status == Status::kOk && std::equal(found.client.begin(), found.client.end(), e.client);
  if (!ours) {
    if (found.status == Status::kNone && e.server_len == 0) return Verdict::kAccept;
    // Answers with our cookie in between do not excuse misses: an upstream that only
    // sometimes returns it cannot be held to it.
    if (now_ms - e.miss_window_ms >= kMissWindowMs) {
      e.miss_window_ms = now_ms;
      e.misses = 0;
    }
    if (++e.misses >= kMissesToForget) {
      e.gave_up = true;
      return Verdict::kGaveUp;
    }
    return found.status == Status::kNone ? Verdict::kMissing : Verdict::kWrongCookie;
  }
  // A server cookie is learnt as it comes (RFC 7873 section 5.3); a server that sends
  // none keeps the one it last sent, should it come back to it.
  if (!found.server.empty() &&
      !(found.server.size() == e.server_len &&
        std::equal(found.server.begin(), found.server.end(),
                   e.option + wire::edns::kOptionHeaderSize + wire::cookie::kClientSize))) {
    Encode(e, found.server);
  }
  return Verdict::kAccept;
}

void CookieJar::Encode(Entry& e, std::span<const std::uint8_t> server) noexcept {
  e.server_len = static_cast<std::uint8_t>(server.size());
  e.option_len = static_cast<std::uint8_t>(wire::WriteCookieOption(
      std::span<const std::uint8_t, wire::cookie::kClientSize>(e.client), server, e.option));
}

}  // namespace ringdns::core
