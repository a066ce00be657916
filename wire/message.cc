#include "wire/message.h"

#include "wire/cursor.h"
#include "wire/name.h"
#include "wire/record.h"

namespace ringdns::wire {

Result<QueryView> ParseQuestion(std::span<const std::uint8_t> msg, LabelStarts* starts) noexcept {
  if (msg.size() < header::kSize) return Error::kTooShort;
  if (msg.size() > kMaxMessageSize) return Error::kTooLong;
  QueryView view;
  view.size = static_cast<std::uint16_t>(msg.size());
  view.id = LoadU16(msg.data() + header::kId);
  view.flags = LoadU16(msg.data() + header::kFlags);
  if (LoadU16(msg.data() + header::kQdCount) != 1) return Error::kQdCount;
  const Result<std::size_t> qname_len = ScanUncompressedName(msg, QueryView::kQnameOffset, starts);
  if (!qname_len) return qname_len.error();
  view.qname_len = static_cast<std::uint16_t>(*qname_len);
  Cursor cursor(msg, QueryView::kQnameOffset + *qname_len);
  view.qtype = cursor.ReadU16();
  view.qclass = cursor.ReadU16();
  if (!cursor.ok()) return cursor.error();
  view.question_end = static_cast<std::uint16_t>(cursor.pos());
  return view;
}

Result<QueryView> ParseQuery(std::span<const std::uint8_t> msg) noexcept {
  LabelStarts starts(msg.size());
  Result<QueryView> parsed = ParseQuestion(msg, &starts);
  if (!parsed) return parsed;
  QueryView view = *parsed;
  const Result<std::size_t> end =
      WalkRecords(msg, view.question_end, starts, [&](const RecordView& record) -> Error {
        if (record.type != rrtype::kOpt) return Error::kOk;
        if (record.section != Section::kAdditional) return Error::kOptOutsideAdditional;
        if (view.opt.present()) return Error::kDuplicateOpt;  // RFC 6891 section 6.1.1
        const Result<OptView> opt = ParseOpt(msg, record);
        if (!opt) return opt.error();
        view.opt = *opt;
        return Error::kOk;
      });
  if (!end) return end.error();
  if (*end != msg.size()) return Error::kTrailing;
  return view;
}

}  // namespace ringdns::wire
