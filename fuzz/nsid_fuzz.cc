// Fuzzes nsid's answer edit (NsidStage::SetNsid) on any answer an upstream could send.
// Properties: it never writes past the room it is given (the buffer is exactly that
// size, so ASan sees an overrun); an answer that does not walk, or has no OPT last, is
// left octet for octet; otherwise the result walks with the same sections and RCODE,
// and holds exactly one NSID, equal to DATA, when it fit, and none when it did not.
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "core/pipeline/nsid_stage.h"
#include "dns_mutator.h"
#include "fuzz_check.h"
#include "wire/edns.h"
#include "wire/response.h"

using namespace ringdns;

#ifdef RINGDNS_LIBFUZZER
extern "C" std::size_t LLVMFuzzerCustomMutator(std::uint8_t* data, std::size_t size,
                                               std::size_t max_size, unsigned seed) {
  return fuzz::MutateDns(data, size, max_size, seed, 2);
}
#endif

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // The first two octets choose the room past the answer and DATA's length.
  if (size < 2) return 0;
  const std::size_t slack = data[0];
  const std::string nsid(data[1], 'n');
  const std::vector<std::uint8_t> original(data + 2, data + size);
  std::vector<std::uint8_t> buffer(original.size() + slack);
  if (!original.empty()) std::memcpy(buffer.data(), original.data(), original.size());
  const std::span<std::uint8_t> answer(buffer.data(), original.size());

  const wire::Result<wire::ResponseInfo> before = wire::WalkResponse(original);
  const std::size_t len = core::NsidStage::SetNsid(answer, buffer, nsid);
  FUZZ_CHECK(len <= buffer.size());
  if (!before || !before->opt().present() || before->opt().end() != original.size()) {
    FUZZ_CHECK(len == original.size());
    FUZZ_CHECK(original.empty() ||
               std::memcmp(buffer.data(), original.data(), original.size()) == 0);
    return 0;
  }
  const std::span<const std::uint8_t> edited(buffer.data(), len);
  const wire::Result<wire::ResponseInfo> after = wire::WalkResponse(edited);
  FUZZ_CHECK(after);
  FUZZ_CHECK(after->counts == before->counts);
  FUZZ_CHECK(after->rcode == before->rcode);
  FUZZ_CHECK(after->opt().present() && after->opt().end() == len);
  int found = 0;
  wire::ForEachOption(edited, after->opt(),
                      [&](std::uint16_t code, std::span<const std::uint8_t> value) {
                        if (code != wire::edns::kOptionNsid) return;
                        ++found;
                        FUZZ_CHECK(value.size() == nsid.size() &&
                                   std::memcmp(value.data(), nsid.data(), nsid.size()) == 0);
                      });
  // The reference: the answer without the NSIDs it held, and whether ours fits after it.
  std::size_t held = 0;
  wire::ForEachOption(std::span<const std::uint8_t>(original), before->opt(),
                      [&](std::uint16_t code, std::span<const std::uint8_t> value) {
                        if (code == wire::edns::kOptionNsid)
                          held += wire::edns::kOptionHeaderSize + value.size();
                      });
  const std::size_t without = original.size() - held;
  const std::size_t with = without + wire::edns::kOptionHeaderSize + nsid.size();
  const bool fits = with <= buffer.size() && with <= 65535;
  FUZZ_CHECK(found == (fits ? 1 : 0));
  FUZZ_CHECK(len == (fits ? with : without));
  return 0;
}
