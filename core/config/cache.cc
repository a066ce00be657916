// The cache directive, with CoreDNS's options and defaults.
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/config/directives.h"
#include "core/config/parse_util.h"

namespace ringdns::core::config {
namespace {

constexpr std::uint32_t kMaxTtlSeconds = 0x7fffffff;

absl::Status ParseClass(const Directive& o, CacheClass& c) {
  const std::string usage = absl::StrCat(o.name.text, " CAPACITY [TTL] [MINTTL]");
  if (absl::Status s = ExpectArgs(o, 1, 3, usage); !s.ok()) return s;
  absl::StatusOr<std::uint32_t> capacity = ParseUint(o.args[0], "capacity", 1, 100000000);
  if (!capacity.ok()) return capacity.status();
  c.capacity = *capacity;
  if (o.args.size() >= 2) {
    absl::StatusOr<std::uint32_t> ttl = ParseUint(o.args[1], "TTL", 1, kMaxTtlSeconds);
    if (!ttl.ok()) return ttl.status();
    c.max_ttl = absl::Seconds(*ttl);
    if (c.min_ttl > c.max_ttl) c.min_ttl = c.max_ttl;  // a low TTL lowers the floor too
  }
  if (o.args.size() == 3) {
    absl::StatusOr<std::uint32_t> min = ParseUint(o.args[2], "MINTTL", 0, kMaxTtlSeconds);
    if (!min.ok()) return min.status();
    c.min_ttl = absl::Seconds(*min);
    if (c.min_ttl > c.max_ttl) {
      return ErrorAt(o.args[2], "MINTTL must not exceed TTL");
    }
  }
  return absl::OkStatus();
}

absl::Status ParseZones(const std::vector<Token>& tokens, std::size_t from,
                        std::vector<std::string>& out) {
  for (std::size_t i = from; i < tokens.size(); ++i) {
    absl::StatusOr<std::string> zone = ParseZone(tokens[i]);
    if (!zone.ok()) return zone.status();
    out.push_back(*zone);
  }
  return absl::OkStatus();
}

absl::Status ParseOption(const Directive& o, Cache& c) {
  const std::string& name = o.name.text;
  if (absl::Status s = ExpectNoBlock(o); !s.ok()) return s;
  if (name == "success") return ParseClass(o, c.success);
  if (name == "denial") return ParseClass(o, c.denial);
  if (name == "prefetch") {
    if (absl::Status s = ExpectArgs(o, 1, 3, "prefetch AMOUNT [[DURATION] [PERCENTAGE%]]");
        !s.ok()) {
      return s;
    }
    absl::StatusOr<std::uint32_t> amount = ParseUint(o.args[0], "prefetch amount", 1, 1000000);
    if (!amount.ok()) return amount.status();
    c.prefetch_amount = *amount;
    if (o.args.size() >= 2) {
      absl::StatusOr<absl::Duration> d = ParseDuration(o.args[1], "prefetch duration");
      if (!d.ok()) return d.status();
      c.prefetch_duration = *d;
    }
    if (o.args.size() == 3) {
      const std::string& pct = o.args[2].text;
      std::uint32_t value = 0;
      if (pct.empty() || pct.back() != '%' ||
          !absl::SimpleAtoi(absl::string_view(pct).substr(0, pct.size() - 1), &value) ||
          value < 10 || value > 90) {
        return ErrorAt(o.args[2], absl::StrCat("invalid prefetch percentage '", pct,
                                               "', expected 10% to 90% with the % sign"));
      }
      c.prefetch_percentage = value;
    }
    return absl::OkStatus();
  }
  if (name == "serve_stale") {
    if (absl::Status s = ExpectArgs(o, 0, 2, "serve_stale [DURATION] [immediate|verify]");
        !s.ok()) {
      return s;
    }
    c.serve_stale = true;
    if (o.args.size() >= 1) {
      absl::StatusOr<absl::Duration> d = ParseDuration(o.args[0], "serve_stale duration");
      if (!d.ok()) return d.status();
      c.serve_stale_duration = *d;
    }
    if (o.args.size() == 2) {
      absl::StatusOr<StaleRefresh> mode = ParseKeyword<StaleRefresh>(
          o.args[1], "serve_stale refresh mode",
          {{"immediate", StaleRefresh::kImmediate}, {"verify", StaleRefresh::kVerify}});
      if (!mode.ok()) return mode.status();
      c.serve_stale_refresh = *mode;
    }
    return absl::OkStatus();
  }
  if (name == "servfail") {
    if (absl::Status s = ExpectArgs(o, 1, 1, "servfail DURATION"); !s.ok()) return s;
    absl::StatusOr<absl::Duration> d = ParseDuration(o.args[0], "servfail duration");
    if (!d.ok()) return d.status();
    if (*d > absl::Minutes(5)) {
      return ErrorAt(o.args[0], "servfail duration must be at most 5m");
    }
    c.servfail_ttl = *d;
    return absl::OkStatus();
  }
  if (name == "disable") {
    if (absl::Status s = ExpectArgs(o, 1, 1000, "disable success|denial [ZONES...]"); !s.ok()) {
      return s;
    }
    absl::StatusOr<std::vector<std::string>*> target = ParseKeyword<std::vector<std::string>*>(
        o.args[0], "disable class",
        {{"success", &c.disable_success}, {"denial", &c.disable_denial}});
    if (!target.ok()) return target.status();
    if (o.args.size() == 1) {
      (*target)->push_back(".");
      return absl::OkStatus();
    }
    return ParseZones(o.args, 1, **target);
  }
  if (name == "keepttl") {
    c.keepttl = true;
    return ExpectArgs(o, 0, 0, "keepttl");
  }
  return ErrorAt(o.name, absl::StrCat("unknown cache option '", name,
                                      "', expected one of success, denial, prefetch, "
                                      "serve_stale, servfail, disable, keepttl"));
}

}  // namespace

absl::Status ParseCache(const Directive& d, Cache& c) {
  c.where = d.name.where;
  std::size_t zones_from = 0;
  if (!d.args.empty()) {
    // A leading integer is the TTL, as in CoreDNS, which refuses zero or negative ones
    // (so "cache -5" is an error, not a zone named -5).
    std::int64_t ttl = 0;
    if (absl::SimpleAtoi(d.args[0].text, &ttl)) {
      absl::StatusOr<std::uint32_t> v = ParseUint(d.args[0], "cache TTL", 1, kMaxTtlSeconds);
      if (!v.ok()) return v.status();
      for (CacheClass* cls : {&c.success, &c.denial}) {
        cls->max_ttl = absl::Seconds(*v);
        if (cls->min_ttl > cls->max_ttl) cls->min_ttl = cls->max_ttl;
      }
      zones_from = 1;
    }
  }
  if (absl::Status s = ParseZones(d.args, zones_from, c.zones); !s.ok()) return s;
  for (const Directive& option : d.block) {
    if (absl::Status s = ParseOption(option, c); !s.ok()) return s;
  }
  for (const CacheClass* cls : {&c.success, &c.denial}) {
    if (cls->min_ttl > cls->max_ttl) {
      return ErrorAt(d.name, "cache: a minimum TTL exceeds the maximum TTL");
    }
  }
  return absl::OkStatus();
}

}  // namespace ringdns::core::config
