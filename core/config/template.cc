// `template CLASS TYPE [ZONE...] { match, answer, additional, authority, rcode, ederror,
// fallthrough }`, read as CoreDNS's template plugin reads it (its setup.go). Regexes and
// templates are compiled here too, so a bad one is refused with its position by
// -validate and at start, not on the first query.
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/config/address.h"
#include "core/config/directives.h"
#include "core/config/parse_util.h"
#include "core/config/template_text.h"
#include "re2/re2.h"
#include "wire/rr_names.h"
#include "wire/rr_text.h"

namespace ringdns::core::config {
namespace {

absl::Status CheckRegex(const Token& t) {
  RE2::Options options;
  options.set_log_errors(false);
  const RE2 re(t.text, options);
  if (!re.ok()) {
    return ErrorAt(t, absl::StrCat("template: could not parse regex '", t.text, "': ", re.error()));
  }
  if (re.NumberOfCapturingGroups() > kMaxTemplateGroups) {
    return ErrorAt(t,
                   absl::StrCat("template: regex '", t.text, "' has ", re.NumberOfCapturingGroups(),
                                " groups, expected at most ", kMaxTemplateGroups));
  }
  return absl::OkStatus();
}

absl::Status CheckRecordTemplate(const Token& t) {
  const absl::StatusOr<TemplateText> text = TemplateText::Compile(t.text);
  if (!text.ok()) return ErrorAt(t, absl::StrCat("template: ", text.status().message()));
  if (text->constant()) {
    // Nothing in it depends on the query: render it (comments and trimming apply) and
    // read it as each answer will be.
    std::vector<char> rendered(65535);
    const std::optional<std::size_t> len = text->Render(TemplateData{}, rendered);
    std::vector<std::uint8_t> scratch(65535);
    const wire::Result<std::size_t> record =
        len ? wire::RecordFromText(std::string_view(rendered.data(), *len), scratch)
            : wire::Error::kBufferTooSmall;
    if (!record) {
      return ErrorAt(t, absl::StrCat("template: '", t.text, "' is not a resource record (",
                                     std::string(wire::ToString(record.error())),
                                     "), expected NAME [TTL] [CLASS] TYPE RDATA"));
    }
  }
  return absl::OkStatus();
}

absl::Status RecordTemplates(const Directive& o, std::vector<std::string>& out) {
  if (o.args.empty())
    return ErrorAt(o.name, absl::StrCat("template: ", o.name.text, " needs at least one RR"));
  for (const Token& t : o.args) {
    if (absl::Status s = CheckRecordTemplate(t); !s.ok()) return s;
    out.push_back(t.text);
  }
  return absl::OkStatus();
}

// A template or fallthrough zone as CoreDNS normalises it: a CIDR becomes its reverse
// zones; a dns:// scheme and a :PORT are dropped.
absl::Status AppendZones(const Token& t, std::vector<std::string>& out) {
  std::string text = t.text;
  if (text.rfind("dns://", 0) == 0) text = text.substr(6);
  const std::size_t colon = text.rfind(':');
  if (colon != std::string::npos && text.find(':') == colon &&
      text.find('/') == std::string::npos) {
    text = text.substr(0, colon);  // zone:port (an IPv6 CIDR has more than one colon)
  }
  if (text.find('/') != std::string::npos) {
    const std::optional<Prefix> prefix = ParsePrefix(text);
    if (!prefix) {
      return ErrorAt(t, absl::StrCat("template: invalid network '", t.text,
                                     "', expected a CIDR such as 10.0.0.0/8"));
    }
    for (std::string& zone : ReverseZones(*prefix)) out.push_back(std::move(zone));
    return absl::OkStatus();
  }
  Token zone_token = t;
  zone_token.text = text;
  absl::StatusOr<std::string> zone = ParseZone(zone_token);
  if (!zone.ok()) return zone.status();
  out.push_back(*zone);
  return absl::OkStatus();
}

}  // namespace

absl::Status ParseTemplate(const Directive& d, Template& out) {
  out.where = d.name.where;
  if (d.args.size() < 2) {
    return ErrorAt(d.name, "template: expected template CLASS TYPE [ZONE...] { ... }");
  }
  const std::optional<std::uint16_t> qclass = wire::ClassFromName(d.args[0].text);
  if (!qclass) {
    return ErrorAt(d.args[0], absl::StrCat("template: invalid query class '", d.args[0].text,
                                           "', expected IN, CH, HS, ANY or CLASSnnn"));
  }
  out.qclass = *qclass;
  absl::StatusOr<std::uint16_t> qtype = ParseQtype(d.args[1]);
  if (!qtype.ok()) return qtype.status();
  out.qtype = *qtype;
  for (std::size_t i = 2; i < d.args.size(); ++i) {
    if (absl::Status s = AppendZones(d.args[i], out.zones); !s.ok()) return s;
  }
  for (const Directive& o : d.block) {
    const std::string& what = o.name.text;
    if (!o.block.empty() || o.has_block)
      return ErrorAt(o.name, absl::StrCat("template: ", what, " takes no block"));
    if (what == "match") {
      if (o.args.empty()) return ErrorAt(o.name, "template: match needs at least one REGEX");
      for (const Token& t : o.args) {
        if (absl::Status s = CheckRegex(t); !s.ok()) return s;
        out.matches.push_back(t.text);
      }
    } else if (what == "answer") {
      if (absl::Status s = RecordTemplates(o, out.answer); !s.ok()) return s;
    } else if (what == "additional") {
      if (absl::Status s = RecordTemplates(o, out.additional); !s.ok()) return s;
    } else if (what == "authority") {
      if (absl::Status s = RecordTemplates(o, out.authority); !s.ok()) return s;
    } else if (what == "rcode") {
      if (absl::Status s = ExpectArgs(o, 1, 1, "rcode CODE"); !s.ok()) return s;
      absl::StatusOr<std::uint16_t> rcode = ParseRcode(o.args[0]);
      if (!rcode.ok()) return rcode.status();
      // An extended RCODE needs an OPT, which a query without EDNS does not get back.
      if (*rcode > 15)
        return ErrorAt(
            o.args[0],
            "template: rcode " + o.args[0].text +
                " is an extended RCODE, expected one of the header's (NOERROR to NOTZONE)");
      out.rcode = *rcode;
    } else if (what == "ederror") {
      if (absl::Status s = ExpectArgs(o, 1, 2, "ederror CODE [REASON]"); !s.ok()) return s;
      absl::StatusOr<std::uint32_t> code = ParseUint(o.args[0], "ederror CODE", 0, 65535);
      if (!code.ok()) return code.status();
      out.ederror = static_cast<std::uint16_t>(*code);
      if (o.args.size() == 2) {
        // The reason rides in every answer's OPT: keep it to what a UDP answer has room for.
        if (o.args[1].text.size() > 255) {
          return ErrorAt(o.args[1], "template: the ederror REASON is longer than 255 octets");
        }
        out.ederror_reason = o.args[1].text;
      }
    } else if (what == "fallthrough") {
      std::vector<std::string>& zones = out.fallthrough.emplace();
      for (const Token& t : o.args) {
        if (absl::Status s = AppendZones(t, zones); !s.ok()) return s;
      }
    } else if (what == "upstream") {
      // Accepted and ignored, as current CoreDNS does ("remove soon"); see template_stage.h
      // for the CNAME targets CoreDNS looks up and ringdns does not.
    } else if (what == "edns") {
      return ErrorAt(o.name, "template: edns local is not supported by ringdns yet");
    } else {
      return ErrorAt(
          o.name, absl::StrCat("template: unknown property '", what,
                               "', expected match, answer, additional, authority, rcode, ederror "
                               "or fallthrough"));
    }
  }
  return absl::OkStatus();
}

}  // namespace ringdns::core::config
