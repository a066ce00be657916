#include "core/pipeline/nsid_stage.h"

#include <algorithm>
#include <cstring>

#include "wire/bytes.h"
#include "wire/edns.h"
#include "wire/response.h"

namespace ringdns::core {

std::size_t NsidStage::SetNsid(std::span<std::uint8_t> answer, std::span<std::uint8_t> room,
                               std::string_view data) noexcept {
  const wire::Result<wire::ResponseInfo> info = wire::WalkResponse(answer);
  if (!info) return answer.size();  // nothing of an unsound message is edited
  wire::OptView opt = info->opt();
  // The OPT grows in place only as the last record: a TSIG after it signs these octets.
  if (!opt.present() || opt.end() != answer.size()) return answer.size();
  // An upstream's NSID names the upstream, not this server: it goes either way.
  const std::size_t len = wire::DropOption(answer, opt, wire::edns::kOptionNsid);
  const std::size_t grown = len + wire::edns::kOptionHeaderSize + data.size();
  const std::size_t limit =
      room.data() == answer.data() ? std::min<std::size_t>(room.size(), 65535) : 0;
  if (grown > limit) return len;
  std::uint8_t* at = answer.data() + len;
  wire::StoreU16(at, wire::edns::kOptionNsid);
  wire::StoreU16(at + 2, static_cast<std::uint16_t>(data.size()));
  if (!data.empty()) std::memcpy(at + wire::edns::kOptionHeaderSize, data.data(), data.size());
  // RDLENGTH stays within 65535: the whole message does.
  wire::StoreU16(
      answer.data() + opt.rdata_offset - 2,
      static_cast<std::uint16_t>(opt.rdlength + wire::edns::kOptionHeaderSize + data.size()));
  return grown;
}

}  // namespace ringdns::core
