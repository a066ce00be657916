// Fuzzes rewrite's two halves on untrusted bytes. As a response: wire::RewriteNames,
// with no edits and with names renamed longer, must never write past its room, and a
// response the walk accepts must come out as one the walk accepts, with the same
// counts. As a query: the rules (exact, suffix with answer auto, the AKS regex, a type
// rule, edns0 rules) rewrite it in place within its room into a query that parses, and the query
// sent back as an answer reverts to the client's own question.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <vector>

#include "core/config/loader.h"
#include "core/pipeline/pipeline.h"
#include "core/pipeline/rewrite_stage.h"
#include "fuzz_check.h"
#include "wire/bytes.h"
#include "wire/message.h"
#include "wire/response.h"
#include "wire/rewrite_names.h"

namespace {

using namespace ringdns;

constexpr std::size_t kGuard = 16;

// Every name gets a label "x" in front, when it has room.
std::size_t Longer(void*, wire::NameRole, std::span<const std::uint8_t> name,
                   wire::NameStorage& out) {
  if (name.size() + 2 > wire::kMaxNameLen) return 0;
  out[0] = 1;
  out[1] = 'x';
  std::memcpy(out.data() + 2, name.data(), name.size());
  return name.size() + 2;
}

void CheckResponse(std::span<const std::uint8_t> in, const wire::NameEdits& edits,
                   std::size_t room) {
  std::vector<std::uint8_t> out(room + kGuard, 0xa5);
  const wire::Result<std::size_t> len = wire::RewriteNames(in, std::span(out.data(), room), edits);
  for (std::size_t i = room; i < out.size(); ++i) FUZZ_CHECK(out[i] == 0xa5);
  const wire::Result<wire::ResponseInfo> before = wire::WalkResponse(in);
  if (!len) {
    // Only a message the walk refuses, one that does not fit, or one with RDATA the walk
    // does not look inside (MINFO, RP, NAPTR, ... whose names RewriteNames reads) may fail.
    FUZZ_CHECK(!before || len.error() == wire::Error::kBufferTooSmall ||
               len.error() == wire::Error::kBadRdata);
    return;
  }
  FUZZ_CHECK(*len <= room);
  if (!before) return;
  const wire::Result<wire::ResponseInfo> after = wire::WalkResponse(std::span(out.data(), *len));
  FUZZ_CHECK(after.has_value());
  FUZZ_CHECK(after->counts == before->counts);
}

const core::Pipeline& Rules() {
  static const core::Pipeline* p = [] {
    absl::StatusOr<core::config::Config> c = core::config::ParseCorefile(
        ".:53 {\n"
        " rewrite continue name exact a.test. a.much.longer.name.test.\n"
        " rewrite continue name suffix .b.test. .remote.example. answer auto\n"
        " rewrite continue {\n  name regex (.*)\\.example\\.com {1}.default.svc.cluster.local\n"
        "  answer name (.*)\\.default\\.svc\\.cluster\\.local {1}.example.com\n }\n"
        " rewrite continue name regex ^(.*)-(x)\\.c\\.test$ {2}.{1}.{0}\n"
        " rewrite continue ttl suffix .test. 5-10\n"
        " rewrite continue edns0 local set 0xffee {qname}\n"
        " rewrite continue edns0 subnet set 24 56\n"
        " rewrite continue edns0 local unset 10\n"
        " rewrite continue edns0 nsid append\n"
        " rewrite type TXT A\n"
        " forward . 127.0.0.1:53\n}\n",
        "fuzz/Corefile");
    FUZZ_CHECK(c.ok());
    absl::StatusOr<core::Pipeline> built = core::BuildPipeline(c->blocks.front());
    FUZZ_CHECK(built.ok());
    return new core::Pipeline(std::move(*built));
  }();
  return *p;
}

void CheckQuery(std::span<const std::uint8_t> input) {
  const wire::Result<wire::QueryView> q = wire::ParseQuery(input);
  if (!q) return;
  const core::RewriteStage& stage = *Rules().rewrite;
  constexpr std::size_t kRoom = 1700;
  if (input.size() > kRoom) return;
  std::vector<std::uint8_t> buffer(kRoom + kGuard, 0xa5);
  std::memcpy(buffer.data(), input.data(), input.size());
  sockaddr_in client{};
  client.sin_family = AF_INET;
  client.sin_addr.s_addr = htonl(0xc0000207);
  const core::RewriteStage::QueryResult r =
      stage.RewriteQuery(std::span(buffer.data(), kRoom), q->size, q->qname_len, q->qtype,
                         q->qclass, {reinterpret_cast<const sockaddr*>(&client), false});
  for (std::size_t i = kRoom; i < buffer.size(); ++i) FUZZ_CHECK(buffer[i] == 0xa5);
  if (r.outcome != core::RewriteStage::Outcome::kRewritten) {
    FUZZ_CHECK(std::memcmp(buffer.data(), input.data(), input.size()) == 0);  // left as it came
    return;
  }
  FUZZ_CHECK(r.len <= kRoom);
  const wire::Result<wire::QueryView> rewritten = wire::ParseQuery(std::span(buffer.data(), r.len));
  FUZZ_CHECK(rewritten.has_value());
  FUZZ_CHECK(rewritten->qname_len == r.qname_len);
  // The rewritten query, answered by reflecting it, goes back to the client's question.
  core::OriginalQuestion original;
  original.qname_len = static_cast<std::uint8_t>(q->qname_len);
  std::memcpy(original.qname.data(), input.data() + wire::header::kSize, q->qname_len);
  original.qtype = q->qtype;
  original.qclass = q->qclass;
  buffer[2] |= 0x80;  // QR
  std::vector<std::uint8_t> out(65535);
  const wire::Result<std::size_t> reverted =
      stage.RevertAnswer(std::span(buffer.data(), r.len), out, original, r.matched);
  // A query's records are checked less than an answer's (an A of 3 octets parses): the
  // answer must revert, and walk, when the reflected query walks as an answer.
  if (!wire::WalkResponse(std::span(buffer.data(), r.len))) return;
  FUZZ_CHECK(reverted.has_value());
  FUZZ_CHECK(wire::WalkResponse(std::span(out.data(), *reverted)).has_value());
  FUZZ_CHECK(std::memcmp(out.data() + wire::header::kSize, original.qname.data(),
                         original.qname_len) == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> input(data, size);
  CheckResponse(input, wire::NameEdits{}, 65535);
  CheckResponse(input, wire::NameEdits{nullptr, Longer, nullptr, 0, 0}, 65535);
  CheckResponse(input, wire::NameEdits{nullptr, Longer, nullptr, 0, 0}, size / 2 + 12);
  CheckQuery(input);
  return 0;
}
