#include "wire/cookie.h"

#include <cstring>

namespace ringdns::wire {

FoundCookie FindCookie(std::span<const std::uint8_t> msg, const OptView& opt) noexcept {
  FoundCookie found;
  if (!opt.present()) return found;
  ForEachOption(msg, opt, [&](std::uint16_t code, std::span<const std::uint8_t> data) {
    if (code != edns::kOptionCookie) return;
    const std::size_t server = data.size() - cookie::kClientSize;
    const bool sound = data.size() == cookie::kClientSize ||
                       (data.size() > cookie::kClientSize && server >= cookie::kMinServerSize &&
                        server <= cookie::kMaxServerSize);
    if (found.status != FoundCookie::Status::kNone || !sound) {
      found = {FoundCookie::Status::kMalformed, {}, {}};
      return;
    }
    found = {FoundCookie::Status::kOk, data.first(cookie::kClientSize),
             data.subspan(cookie::kClientSize)};
  });
  return found;
}

std::size_t WriteCookieOption(std::span<const std::uint8_t, cookie::kClientSize> client,
                              std::span<const std::uint8_t> server, std::uint8_t* out) noexcept {
  const std::size_t length = client.size() + server.size();
  StoreU16(out, edns::kOptionCookie);
  StoreU16(out + 2, static_cast<std::uint16_t>(length));
  std::memcpy(out + edns::kOptionHeaderSize, client.data(), client.size());
  if (!server.empty())
    std::memcpy(out + edns::kOptionHeaderSize + client.size(), server.data(), server.size());
  return edns::kOptionHeaderSize + length;
}

}  // namespace ringdns::wire
