#include "wire/response.h"

#include <cstring>

#include "wire/name.h"

namespace ringdns::wire {
namespace {

// A name embedded in RDATA must be valid and end inside the RDATA.
Result<std::size_t> ScanRdataName(std::span<const std::uint8_t> msg, std::size_t offset,
                                  std::size_t rdata_end, LabelStarts& starts) noexcept {
  if (offset >= rdata_end) return Error::kBadRdata;
  const Result<std::size_t> len = ScanName(msg.first(rdata_end), offset, &starts);
  if (!len) return len.error() == Error::kTooShort ? Error::kBadRdata : len.error();
  return offset + *len;
}

// Checks the RDATA of the types whose layout we know and whose names a client will
// follow. Everything else is an opaque blob already bounds-checked by ReadRecord.
Error CheckRdata(std::span<const std::uint8_t> msg, const RecordView& record, LabelStarts& starts,
                 ResponseInfo& info) noexcept {
  const std::size_t start = record.rdata_offset;
  const std::size_t end = record.end();
  auto expect_name_at = [&](std::size_t prefix) -> Error {
    const Result<std::size_t> name_end = ScanRdataName(msg, start + prefix, end, starts);
    if (!name_end) return name_end.error();
    return *name_end == end ? Error::kOk : Error::kBadRdata;
  };
  switch (record.type) {
    case rrtype::kA: return record.rdlength == 4 ? Error::kOk : Error::kBadRdata;
    case rrtype::kAaaa: return record.rdlength == 16 ? Error::kOk : Error::kBadRdata;
    case rrtype::kNs:
    case rrtype::kCname:
    case rrtype::kPtr: return expect_name_at(0);
    case rrtype::kMx: return record.rdlength < 3 ? Error::kBadRdata : expect_name_at(2);
    case rrtype::kSrv: return record.rdlength < 7 ? Error::kBadRdata : expect_name_at(6);
    case rrtype::kSoa: {
      const Result<std::size_t> mname_end = ScanRdataName(msg, start, end, starts);
      if (!mname_end) return mname_end.error();
      const Result<std::size_t> rname_end = ScanRdataName(msg, *mname_end, end, starts);
      if (!rname_end) return rname_end.error();
      // SERIAL, REFRESH, RETRY, EXPIRE, MINIMUM (RFC 1035 section 3.3.13).
      constexpr std::size_t kSoaNumbersSize = 20;
      if (end - *rname_end != kSoaNumbersSize) return Error::kBadRdata;
      if (record.section == Section::kAuthority && !info.has_soa) {
        info.has_soa = true;
        info.soa_ttl = record.ttl;
        info.soa_minimum = LoadU32(msg.data() + *rname_end + 16);
      }
      return Error::kOk;
    }
    default: return Error::kOk;
  }
}

// The validating walk behind WalkResponse and WalkAndCapTtls; `on_record` sees every record
// but OPT after its checks passed.
template <typename OnRecord>
Result<ResponseInfo> Walk(std::span<const std::uint8_t> msg, OnRecord&& on_record) noexcept {
  if (msg.size() < header::kSize) return Error::kTooShort;
  if (msg.size() > kMaxMessageSize) return Error::kTooLong;
  ResponseInfo info;
  LabelStarts starts(msg.size());
  std::size_t question_end = header::kSize;
  const std::uint16_t qdcount = LoadU16(msg.data() + header::kQdCount);
  if (qdcount > 1) return Error::kQdCount;
  if (qdcount == 1) {
    const Result<QueryView> question = ParseQuestion(msg, &starts);
    if (!question) return question.error();
    info.question = *question;
    info.has_question = true;
    question_end = question->question_end;
  } else {
    info.question.size = static_cast<std::uint16_t>(msg.size());
    info.question.id = LoadU16(msg.data() + header::kId);
    info.question.flags = LoadU16(msg.data() + header::kFlags);
    info.question.question_end = header::kSize;
  }
  info.counts = ReadSectionCounts(msg);
  const Result<std::size_t> end =
      WalkRecords(msg, question_end, starts, [&](const RecordView& record) -> Error {
        if (record.type == rrtype::kOpt) {
          if (record.section != Section::kAdditional) return Error::kOptOutsideAdditional;
          if (info.question.opt.present()) return Error::kDuplicateOpt;
          const Result<OptView> opt = ParseOpt(msg, record);
          if (!opt) return opt.error();
          info.question.opt = *opt;
          return Error::kOk;
        }
        const std::uint32_t ttl = ClampTtl(record.ttl);
        if (ttl < info.min_ttl) info.min_ttl = ttl;
        if (const Error e = CheckRdata(msg, record, starts, info); e != Error::kOk) return e;
        on_record(record);
        return Error::kOk;
      });
  if (!end) return end.error();
  if (*end != msg.size()) return Error::kTrailing;
  info.rcode = static_cast<std::uint16_t>((info.question.flags & flag::kRcodeMask) |
                                          (std::uint16_t{info.question.opt.ext_rcode} << 4));
  return info;
}

}  // namespace

Result<ResponseInfo> WalkResponse(std::span<const std::uint8_t> msg) noexcept {
  return Walk(msg, [](const RecordView&) {});
}

Result<ResponseInfo> WalkResponse(std::span<const std::uint8_t> msg, RecordSink on_record,
                                  void* context) noexcept {
  return Walk(msg, [&](const RecordView& record) { on_record(context, record); });
}

Error MatchAnswer(std::span<const std::uint8_t> answer, std::uint16_t expected_id,
                  std::uint16_t expected_opcode, const Question& question) noexcept {
  if (answer.size() < header::kSize) return Error::kTooShort;
  const std::uint16_t flags = LoadU16(answer.data() + header::kFlags);
  if ((flags & flag::kQr) == 0) return Error::kNotResponse;
  if (LoadU16(answer.data() + header::kId) != expected_id) return Error::kIdMismatch;
  if (Opcode(flags) != expected_opcode) return Error::kOpcodeMismatch;
  const Result<QueryView> parsed = ParseQuestion(answer);
  if (!parsed) {
    return parsed.error() == Error::kQdCount ? Error::kQuestionMismatch : parsed.error();
  }
  if (parsed->qtype != question.qtype || parsed->qclass != question.qclass ||
      !NamesEqualIgnoreCase(parsed->qname(answer), question.qname)) {
    return Error::kQuestionMismatch;
  }
  return Error::kOk;
}

Result<ResponseInfo> WalkAndCapTtls(std::span<std::uint8_t> msg, std::uint32_t cap) noexcept {
  // Writing a TTL during the walk is safe: pointers may only land on label starts, and
  // no TTL octet is one.
  Result<ResponseInfo> info = Walk(msg, [&](const RecordView& record) {
    const std::uint32_t ttl = ClampTtl(record.ttl);
    StoreU32(msg.data() + record.ttl_offset, ttl < cap ? ttl : cap);
  });
  if (!info) return info;
  // The walk read each TTL before capping it; report the capped values.
  ResponseInfo capped = *info;
  if (capped.min_ttl != kNoTtl && capped.min_ttl > cap) capped.min_ttl = cap;
  if (capped.has_soa) {
    const std::uint32_t soa_ttl = ClampTtl(capped.soa_ttl);
    capped.soa_ttl = soa_ttl < cap ? soa_ttl : cap;
  }
  return capped;
}

Error CapTtls(std::span<std::uint8_t> msg, std::uint32_t cap) noexcept {
  const Result<ResponseInfo> info = WalkAndCapTtls(msg, cap);
  return info ? Error::kOk : info.error();
}

std::size_t DropOptForClientWithout(std::span<std::uint8_t> msg, ResponseInfo& info) noexcept {
  if (!info.opt().present() || info.opt().ext_rcode != 0) return msg.size();
  const std::size_t size = DropOpt(msg, info.question.opt);
  info.question.size = static_cast<std::uint16_t>(size);
  return size;
}

std::size_t DropEdnsOption(std::span<std::uint8_t> msg, ResponseInfo& info,
                           std::uint16_t code) noexcept {
  OptView& opt = info.question.opt;
  if (!opt.present()) return msg.size();
  if (opt.end() == msg.size()) {
    const std::size_t size = DropOption(msg, opt, code);
    info.question.size = static_cast<std::uint16_t>(size);
    return size;
  }
  // A record follows: no name may move, so each option becomes PADDING of its size.
  std::size_t pos = opt.rdata_offset;
  while (opt.end() - pos >=
         edns::kOptionHeaderSize) {  // ParseOpt checked the options fill RDLENGTH
    const std::size_t option_size = edns::kOptionHeaderSize + LoadU16(msg.data() + pos + 2);
    if (LoadU16(msg.data() + pos) == code) {
      StoreU16(msg.data() + pos, edns::kOptionPadding);
      std::memset(msg.data() + pos + edns::kOptionHeaderSize, 0,
                  option_size - edns::kOptionHeaderSize);
    }
    pos += option_size;
  }
  return msg.size();
}

std::size_t TruncateForUdp(std::span<std::uint8_t> msg, const ResponseInfo& info,
                           std::size_t max_size) noexcept {
  if (msg.size() <= max_size) return msg.size();
  const OptView& opt = info.opt();
  const std::size_t question_end = info.question.question_end;
  std::size_t out = question_end;
  std::uint16_t arcount = 0;
  if (opt.present()) {
    const std::size_t opt_size = opt.end() - opt.offset;
    // Keep the OPT when it fits: it carries the extended RCODE and the DO bit.
    if (question_end + opt_size <= max_size) {
      std::memmove(msg.data() + question_end, msg.data() + opt.offset, opt_size);
      out += opt_size;
      arcount = 1;
    }
  }
  std::uint8_t* h = msg.data();
  StoreU16(h + header::kFlags, LoadU16(h + header::kFlags) | flag::kTc);
  StoreU16(h + header::kAnCount, 0);
  StoreU16(h + header::kNsCount, 0);
  StoreU16(h + header::kArCount, arcount);
  return out;
}

}  // namespace ringdns::wire
