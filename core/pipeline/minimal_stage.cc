#include "core/pipeline/minimal_stage.h"

#include <cstring>

#include "wire/bytes.h"
#include "wire/record.h"
#include "wire/response.h"

namespace ringdns::core {
std::size_t MinimalStage::Shrink(std::span<std::uint8_t> msg) noexcept {
  struct Found {
    std::size_t answer_end = 0;  // where the answer section's last record ends
    bool signed_whole = false;   // TSIG or SIG(0): a MAC over these very octets
  } found;
  // The walk also proves every name in the answer section points back, never past its
  // own record: cutting what follows leaves them whole.
  const wire::Result<wire::ResponseInfo> info = wire::WalkResponse(
      msg,
      [](void* context, const wire::RecordView& r) {
        auto& f = *static_cast<Found*>(context);
        f.signed_whole = f.signed_whole || r.signs_message();
        if (r.section == wire::Section::kAnswer) f.answer_end = r.end();
      },
      &found);
  if (!info || info->rcode != wire::rcode::kNoError || info->counts[0] == 0 || found.signed_whole)
    return msg.size();
  const wire::OptView& opt = info->opt();
  if (info->counts[1] == 0 && info->counts[2] == (opt.present() ? 1 : 0))
    return msg.size();  // minimal already
  std::size_t len = found.answer_end;
  if (opt.present()) {
    const std::size_t opt_len = opt.end() - opt.offset;
    std::memmove(msg.data() + len, msg.data() + opt.offset, opt_len);  // moves towards the front
    len += opt_len;
  }
  wire::StoreU16(msg.data() + wire::header::kNsCount, 0);
  wire::StoreU16(msg.data() + wire::header::kArCount, opt.present() ? 1 : 0);
  return len;
}

}  // namespace ringdns::core
