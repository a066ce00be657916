#include "core/pipeline/template_stage.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <array>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "core/base/zone_name.h"
#include "core/config/template_text.h"
#include "core/pipeline/regex_groups.h"
#include "re2/re2.h"
#include "wire/bytes.h"
#include "wire/name.h"
#include "wire/patch.h"
#include "wire/rr_names.h"
#include "wire/rr_text.h"

namespace ringdns::core {
namespace {

constexpr std::uint16_t kAny = 255;           // class and type ANY
constexpr std::size_t kMaxRecordText = 4096;  // one rendered record's text
constexpr std::size_t kMaxOpt = 512;          // our OPT with an EDE and its reason
enum Section : std::size_t { kAnswer, kAuthority, kAdditional, kSections };

// RE2 (Debian 12's) finds a match with its DFA, then the groups: in place for a one-pass
// regex of at most four groups, else with a bit-state search that allocates its work
// arrays (three allocations a query, measured in no_alloc_test). Its DFA takes a reader
// lock on its state cache. Only queries a `match` regex is tried on pay either.
struct Regex {
  std::unique_ptr<RE2> re;
  std::vector<std::pair<std::string, int>> groups;  // named groups
  int group_count = 0;
};

struct OneTemplate {
  std::uint16_t qclass = kAny;
  std::uint16_t qtype = kAny;
  std::vector<WireZone> zones;
  std::vector<std::string> zone_texts;  // .Zone, as configured
  std::vector<Regex> regexes;           // empty: everything matches, as ".*" would
  std::vector<std::string> patterns;    // .Regex
  std::array<std::vector<TemplateText>, kSections> sections;
  std::uint16_t rcode = 0;
  bool has_ede = false;
  std::uint16_t ede = 0;
  std::string ede_reason;
  bool fallthrough = false;
  std::vector<WireZone> fallthrough_zones;  // empty: every name
};

// The longest of `zones` that holds `name` (CoreDNS's plugin.Zones.Matches); -1 when none.
int LongestZone(const std::vector<WireZone>& zones, std::span<const std::uint8_t> name) noexcept {
  int best = -1;
  for (std::size_t i = 0; i < zones.size(); ++i) {
    if (InZone(name, zones[i].view()) &&
        (best < 0 || zones[i].len > zones[static_cast<std::size_t>(best)].len)) {
      best = static_cast<int>(i);
    }
  }
  return best;
}

// The client's address as Go prints a net.IP: an IPv4-mapped IPv6 address as IPv4.
std::string_view RemoteText(const sockaddr* client, std::span<char> out) noexcept {
  const void* address = nullptr;
  int family = AF_UNSPEC;
  in_addr mapped{};
  if (client != nullptr && client->sa_family == AF_INET) {
    address = &reinterpret_cast<const sockaddr_in*>(client)->sin_addr;
    family = AF_INET;
  } else if (client != nullptr && client->sa_family == AF_INET6) {
    const in6_addr& a6 = reinterpret_cast<const sockaddr_in6*>(client)->sin6_addr;
    if (IN6_IS_ADDR_V4MAPPED(&a6)) {
      std::memcpy(&mapped, a6.s6_addr + 12, 4);
      address = &mapped;
      family = AF_INET;
    } else {
      address = &a6;
      family = AF_INET6;
    }
  }
  if (address == nullptr ||
      ::inet_ntop(family, address, out.data(), static_cast<socklen_t>(out.size())) == nullptr) {
    return {};
  }
  return {out.data(), std::strlen(out.data())};
}

Verdict Answered(QueryContext& ctx, std::size_t len) noexcept {
  ctx.answer_len = len;
  return Verdict::kAnswered;
}

// An answer of `rcode` alone (NXDOMAIN where no regex matched, SERVFAIL).
Verdict ErrorAnswer(QueryContext& ctx, std::uint16_t rcode) noexcept {
  const wire::Result<std::size_t> len =
      wire::BuildErrorAnswer(ctx.message, ctx.query, {rcode}, ctx.room);
  return len ? Answered(ctx, *len) : Verdict::kNext;  // cannot fail: a question fits any room
}

Verdict Failed(QueryContext& ctx) noexcept {
  ++ctx.counters.template_failures;
  return ErrorAnswer(ctx, wire::rcode::kServFail);
}

// Writes `t`'s answer for `data` into ctx.room: header, question, the rendered records
// section by section, then the OPT (with the EDE).
Verdict Respond(const OneTemplate& t, const TemplateData& data, QueryContext& ctx) noexcept {
  if (t.rcode == wire::rcode::kServFail)
    return ErrorAnswer(ctx, wire::rcode::kServFail);  // as CoreDNS: no records
  const wire::QueryView& q = ctx.query;
  wire::ErrorAnswer header{.rcode = t.rcode,
                           .has_extended_error = t.has_ede,
                           .extended_error = t.ede,
                           .extended_error_text = t.ede_reason};
  const wire::Result<std::size_t> base = wire::BuildErrorAnswer(ctx.message, q, header, ctx.room);
  if (!base) return Failed(ctx);
  // The OPT moves behind the records: keep it aside while they are written where it is.
  const std::size_t opt_len = *base - q.question_end;
  std::array<std::uint8_t, kMaxOpt> opt;
  if (opt_len > opt.size()) return Failed(ctx);
  std::memcpy(opt.data(), ctx.room.data() + q.question_end, opt_len);
  const std::size_t limit = std::min<std::size_t>(ctx.room.size(), 0xffff) - opt_len;
  std::size_t pos = q.question_end;
  std::array<std::uint16_t, kSections> counts{};
  std::array<char, kMaxRecordText> text;
  bool cut = false;  // a record did not fit the room: the rest are left out, TC set
  for (std::size_t s = 0; s < kSections && !cut; ++s) {
    for (const TemplateText& record : t.sections[s]) {
      const std::optional<std::size_t> text_len = record.Render(data, text);
      if (!text_len || pos > limit) return Failed(ctx);
      const wire::Result<std::size_t> written =
          wire::RecordFromText({text.data(), *text_len}, ctx.room.subspan(pos, limit - pos));
      if (!written && written.error() == wire::Error::kBufferTooSmall && !ctx.tcp) {
        // Over UDP, as a server cuts what does not fit (RFC 2181 section 9): TC, so the
        // client asks again over TCP, where the same room makes it a SERVFAIL.
        cut = true;
        break;
      }
      if (!written) return Failed(ctx);
      pos += *written;
      ++counts[s];
    }
  }
  std::memcpy(ctx.room.data() + pos, opt.data(), opt_len);
  std::uint8_t* h = ctx.room.data();
  wire::StoreU16(h + wire::header::kAnCount, counts[kAnswer]);
  wire::StoreU16(h + wire::header::kNsCount, counts[kAuthority]);
  wire::StoreU16(h + wire::header::kArCount,
                 static_cast<std::uint16_t>(counts[kAdditional] + (opt_len > 0 ? 1 : 0)));
  wire::StoreU16(h + wire::header::kFlags,
                 static_cast<std::uint16_t>(wire::LoadU16(h + wire::header::kFlags) |
                                            wire::flag::kAa | (cut ? wire::flag::kTc : 0)));
  ++ctx.counters.template_answers;
  return Answered(ctx, pos + opt_len);
}

}  // namespace

struct TemplateStage::Compiled {
  std::vector<OneTemplate> templates;
  std::vector<WireZone> zones;  // every template's: a query outside them all goes on at once
  bool uses_remote = false;
};

absl::StatusOr<TemplateStage> TemplateStage::Build(const std::vector<config::Template>& templates,
                                                   const std::vector<std::string>& block_zones) {
  auto compiled = std::make_shared<Compiled>();
  for (const config::Template& ct : templates) {
    auto error = [&](absl::string_view what) {
      return absl::InvalidArgumentError(absl::StrCat(ct.where.ToString(), ": template: ", what));
    };
    OneTemplate& t = compiled->templates.emplace_back();
    t.qclass = ct.qclass;
    t.qtype = ct.qtype;
    t.zone_texts = ct.zones.empty() ? block_zones : ct.zones;
    absl::StatusOr<std::vector<WireZone>> zones = ToWireZones(t.zone_texts);
    if (!zones.ok()) return error(zones.status().message());
    t.zones = std::move(*zones);
    compiled->zones.insert(compiled->zones.end(), t.zones.begin(), t.zones.end());
    const std::pair<Section, const std::vector<std::string>*> sections[] = {
        {kAnswer, &ct.answer}, {kAuthority, &ct.authority}, {kAdditional, &ct.additional}};
    for (const auto& [section, texts] : sections) {
      for (const std::string& text : *texts) {
        absl::StatusOr<TemplateText> compiled_text = TemplateText::Compile(text);
        if (!compiled_text.ok()) return error(compiled_text.status().message());
        compiled->uses_remote = compiled->uses_remote || compiled_text->uses_remote();
        t.sections[section].push_back(std::move(*compiled_text));
      }
    }
    // Unnamed groups nobody reads are made non-capturing: fewer groups keep RE2's search
    // in place (regex_groups.h). The names, and so what templates see, stay the same.
    bool numbered = false;
    for (const auto& section : t.sections) {
      for (const TemplateText& text : section) numbered = numbered || text.uses_numbered_groups();
    }
    for (const std::string& pattern : ct.matches) {
      RE2::Options options;
      options.set_log_errors(false);
      Regex& r = t.regexes.emplace_back();
      r.re = std::make_unique<RE2>(pattern, options);
      if (!r.re->ok())
        return error(absl::StrCat("could not parse regex '", pattern, "': ", r.re->error()));
      if (!numbered) {
        auto named_only = std::make_unique<RE2>(WithoutUnnamedGroups(pattern), options);
        if (named_only->ok() && named_only->NumberOfCapturingGroups() ==
                                    static_cast<int>(r.re->NamedCapturingGroups().size())) {
          r.re = std::move(named_only);
        }
      }
      r.group_count = r.re->NumberOfCapturingGroups();
      if (r.group_count > kMaxTemplateGroups)
        return error(absl::StrCat("regex '", pattern, "' has too many groups"));
      for (const auto& [name, index] : r.re->NamedCapturingGroups())
        r.groups.emplace_back(name, index);
      t.patterns.push_back(pattern);
    }
    t.rcode = ct.rcode;
    t.has_ede = ct.ederror.has_value();
    t.ede = ct.ederror.value_or(0);
    t.ede_reason = ct.ederror_reason;
    t.fallthrough = ct.fallthrough.has_value();
    if (ct.fallthrough) {
      absl::StatusOr<std::vector<WireZone>> through = ToWireZones(*ct.fallthrough);
      if (!through.ok()) return error(through.status().message());
      t.fallthrough_zones = std::move(*through);
    }
  }
  TemplateStage stage;
  stage.compiled_ = std::move(compiled);
  return stage;
}

Verdict TemplateStage::OnQuery(QueryContext& ctx) const noexcept {
  const Compiled& c = *compiled_;
  wire::NameStorage lower;
  const std::span<const std::uint8_t> name(lower.data(), wire::WriteLookupKey(ctx.qname, lower));
  if (LongestZone(c.zones, name) < 0) return Verdict::kNext;
  // What the templates see: the name in lower case with its final dot, as CoreDNS's
  // state.Name(); type and class by their mnemonics.
  std::array<char, wire::kMaxNameTextLen> name_text;
  const wire::Result<std::size_t> name_len = wire::NameToText(name, name_text);
  if (!name_len) return Verdict::kNext;  // cannot happen: kMaxNameTextLen holds any name
  const std::string_view text(name_text.data(), *name_len);
  std::array<char, INET6_ADDRSTRLEN> remote_text{};
  const std::string_view remote =
      c.uses_remote ? RemoteText(ctx.client, remote_text) : std::string_view();
  wire::MnemonicBuffer class_buffer, type_buffer;
  for (const OneTemplate& t : c.templates) {
    const int zone = LongestZone(t.zones, name);
    if (zone < 0) continue;
    const std::uint16_t qclass = ctx.query.qclass;
    const std::uint16_t qtype = ctx.query.qtype;
    if (t.qclass != kAny && qclass != kAny && qclass != t.qclass) continue;
    if (t.qtype != kAny && qtype != kAny && qtype != t.qtype) continue;
    std::array<std::string_view, kMaxTemplateGroups + 1> match{};
    std::size_t match_count = 0;
    const Regex* hit = nullptr;
    std::string_view pattern = ".*";
    if (t.regexes.empty()) {
      match[0] = text;
      match_count = 1;
    } else {
      for (std::size_t i = 0; i < t.regexes.size() && hit == nullptr; ++i) {
        const Regex& r = t.regexes[i];
        std::array<re2::StringPiece, kMaxTemplateGroups + 1> pieces;
        if (!r.re->Match(re2::StringPiece(text.data(), text.size()), 0, text.size(),
                         RE2::UNANCHORED, pieces.data(), r.group_count + 1)) {
          continue;
        }
        hit = &r;
        pattern = t.patterns[i];
        match_count = static_cast<std::size_t>(r.group_count) + 1;
        for (std::size_t g = 0; g < match_count; ++g)
          match[g] = std::string_view(pieces[g].data(), pieces[g].size());
      }
      if (hit == nullptr) {
        if (t.fallthrough &&
            (t.fallthrough_zones.empty() || LongestZone(t.fallthrough_zones, name) >= 0))
          continue;
        ++ctx.counters.template_answers;
        return ErrorAnswer(ctx, wire::rcode::kNxDomain);
      }
    }
    const TemplateData data{
        .name = text,
        .zone = t.zone_texts[static_cast<std::size_t>(zone)],
        .qclass = wire::ClassName(qclass != kAny ? qclass : t.qclass, class_buffer),
        .qtype = wire::TypeName(qtype != kAny ? qtype : t.qtype, type_buffer),
        .regex = pattern,
        .remote = remote,
        .match = std::span<const std::string_view>(match.data(), match_count),
        .group_names = hit != nullptr ? std::span<const std::pair<std::string, int>>(hit->groups)
                                      : std::span<const std::pair<std::string, int>>(),
    };
    return Respond(t, data, ctx);
  }
  return Verdict::kNext;
}

}  // namespace ringdns::core
