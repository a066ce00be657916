#include "wire/patch.h"

#include <cstring>

namespace ringdns::wire {
namespace {

std::uint16_t AnswerFlags(std::uint16_t query_flags, std::uint16_t rcode) noexcept {
  const std::uint16_t kept = query_flags & (flag::kOpcodeMask | flag::kRd | flag::kCd);
  return static_cast<std::uint16_t>(kept | flag::kQr | flag::kRa | (rcode & flag::kRcodeMask));
}

}  // namespace

void SetRcode(std::span<std::uint8_t> msg, const OptView& opt, std::uint16_t rcode) noexcept {
  std::uint8_t* flags = msg.data() + header::kFlags;
  StoreU16(flags, static_cast<std::uint16_t>((LoadU16(flags) & ~flag::kRcodeMask) |
                                             (rcode & flag::kRcodeMask)));
  if (opt.present()) {
    // The OPT's TTL field starts with the extended RCODE octet.
    msg[opt.offset + 1 + rr::kTtl] = static_cast<std::uint8_t>(rcode >> 4);
  }
}

Result<std::size_t> BuildErrorAnswer(std::span<const std::uint8_t> query, const QueryView& q,
                                     const ErrorAnswer& error,
                                     std::span<std::uint8_t> out) noexcept {
  OptAnswer opt;
  opt.ext_rcode = static_cast<std::uint8_t>(error.rcode >> 4);
  opt.do_bit = q.opt.do_bit();  // RFC 3225 section 3: copy DO into the answer
  opt.has_extended_error = error.has_extended_error;
  opt.extended_error = error.extended_error;
  opt.extended_error_text = error.extended_error_text;
  const std::size_t size = q.question_end + (q.opt.present() ? OptAnswerSize(opt) : 0);
  if (out.size() < size) return Error::kBufferTooSmall;
  // Read everything from the query before writing: `out` may alias it.
  const std::uint16_t flags = static_cast<std::uint16_t>(AnswerFlags(q.flags, error.rcode) |
                                                         (error.truncated ? flag::kTc : 0));
  std::memmove(out.data() + header::kSize, query.data() + header::kSize,
               q.question_end - header::kSize);
  std::uint8_t* h = out.data();
  StoreU16(h + header::kId, q.id);
  StoreU16(h + header::kFlags, flags);
  StoreU16(h + header::kQdCount, 1);
  StoreU16(h + header::kAnCount, 0);
  StoreU16(h + header::kNsCount, 0);
  StoreU16(h + header::kArCount, q.opt.present() ? 1 : 0);
  if (q.opt.present()) WriteOpt(opt, out.data() + q.question_end);
  return size;
}

Result<std::size_t> BuildLocalAnswer(std::span<const std::uint8_t> query, const QueryView& q,
                                     std::span<const LocalRecord> answers,
                                     std::span<std::uint8_t> out,
                                     std::span<const LocalRecord> additional) noexcept {
  constexpr std::size_t kFixed = 2 + rr::kFixedSize;  // pointer, type, class, TTL, RDLENGTH
  std::size_t records = 0;
  for (std::span<const LocalRecord> section : {answers, additional}) {
    for (const LocalRecord& r : section) {
      if (r.rdata.size() > 0xffff) return Error::kBufferTooSmall;
      if (r.owner_labels.size() + q.qname_len > kMaxNameLen) return Error::kNameTooLong;
      records += r.owner_labels.size() + kFixed + r.rdata.size();
    }
  }
  OptAnswer opt;
  opt.do_bit = q.opt.do_bit();
  const std::size_t opt_size = q.opt.present() ? OptAnswerSize(opt) : 0;
  if (answers.size() + additional.size() + 1 > 0xffff ||
      out.size() < q.question_end + records + opt_size) {
    return Error::kBufferTooSmall;
  }
  const Result<std::size_t> len = BuildErrorAnswer(query, q, {rcode::kNoError}, out);
  if (!len) return len;
  // The OPT moves past the records, which go right after the question.
  std::uint8_t* at = out.data() + q.question_end;
  std::memmove(at + records, at, opt_size);
  for (std::span<const LocalRecord> section : {answers, additional}) {
    for (const LocalRecord& r : section) {
      if (!r.owner_labels.empty()) std::memcpy(at, r.owner_labels.data(), r.owner_labels.size());
      at += r.owner_labels.size();
      StoreU16(at, static_cast<std::uint16_t>(0xc000 | header::kSize));  // the question's name
      StoreU16(at + 2 + rr::kType, r.type);
      StoreU16(at + 2 + rr::kClass, r.rclass);
      StoreU32(at + 2 + rr::kTtl, r.ttl);
      StoreU16(at + 2 + rr::kRdLength, static_cast<std::uint16_t>(r.rdata.size()));
      if (!r.rdata.empty()) std::memcpy(at + kFixed, r.rdata.data(), r.rdata.size());
      at += kFixed + r.rdata.size();
    }
  }
  StoreU16(out.data() + header::kAnCount, static_cast<std::uint16_t>(answers.size()));
  StoreU16(out.data() + header::kArCount,
           static_cast<std::uint16_t>(additional.size() + (q.opt.present() ? 1 : 0)));
  return *len + records;
}

Result<std::size_t> BuildHeaderOnlyAnswer(std::span<const std::uint8_t> query, std::uint16_t rcode,
                                          std::span<std::uint8_t> out) noexcept {
  if (query.size() < header::kSize) return Error::kTooShort;
  if (out.size() < header::kSize) return Error::kBufferTooSmall;
  const std::uint16_t id = LoadU16(query.data() + header::kId);
  const std::uint16_t flags = AnswerFlags(LoadU16(query.data() + header::kFlags), rcode);
  std::uint8_t* h = out.data();
  StoreU16(h + header::kId, id);
  StoreU16(h + header::kFlags, flags & static_cast<std::uint16_t>(~flag::kCd));
  StoreU16(h + header::kQdCount, 0);
  StoreU16(h + header::kAnCount, 0);
  StoreU16(h + header::kNsCount, 0);
  StoreU16(h + header::kArCount, 0);
  return header::kSize;
}

Result<std::size_t> BuildQuery(const QuerySpec& spec, std::span<std::uint8_t> out) noexcept {
  OptAnswer opt;
  opt.do_bit = spec.do_bit;
  const std::size_t question_end = header::kSize + spec.qname.size() + 4;
  const std::size_t size = question_end + (spec.edns ? OptAnswerSize(opt) : 0);
  if (out.size() < size) return Error::kBufferTooSmall;
  std::uint8_t* h = out.data();
  StoreU16(h + header::kId, spec.id);
  StoreU16(h + header::kFlags, spec.flags & static_cast<std::uint16_t>(~flag::kQr));
  StoreU16(h + header::kQdCount, 1);
  StoreU16(h + header::kAnCount, 0);
  StoreU16(h + header::kNsCount, 0);
  StoreU16(h + header::kArCount, spec.edns ? 1 : 0);
  std::memcpy(h + header::kSize, spec.qname.data(), spec.qname.size());
  StoreU16(h + header::kSize + spec.qname.size(), spec.qtype);
  StoreU16(h + header::kSize + spec.qname.size() + 2, spec.qclass);
  if (spec.edns) WriteOpt(opt, h + question_end);
  return size;
}

}  // namespace ringdns::wire
