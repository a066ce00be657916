#include "core/pipeline/hosts_stage.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/base/read_file.h"
#include "wire/bytes.h"
#include "wire/patch.h"

namespace ringdns::core {
namespace {

bool InAny(std::span<const std::uint8_t> name, const std::vector<WireZone>& zones) noexcept {
  for (const WireZone& zone : zones) {
    if (InZone(name, zone.view())) return true;
  }
  return false;
}

// The file's bytes; "" and a warning when there is no file to read.
absl::StatusOr<std::string> ReadHostsFile(const config::Hosts& hosts, const std::string& path,
                                          std::vector<std::string>& warnings) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      warnings.push_back(absl::StrCat(hosts.where.ToString(), ": hosts: file does not exist: ",
                                      path, "; serving the inline entries only"));
      return std::string();
    }
    return absl::InvalidArgumentError(absl::StrCat(hosts.where.ToString(),
                                                   ": unable to access hosts file '", path,
                                                   "': ", std::strerror(errno)));
  }
  if (S_ISDIR(st.st_mode)) {
    warnings.push_back(absl::StrCat(hosts.where.ToString(), ": hosts: ", path,
                                    " is a directory; serving the inline entries only"));
    return std::string();
  }
  std::optional<std::string> text = ReadWholeFile(path);
  if (!text) {
    return absl::InvalidArgumentError(absl::StrCat(hosts.where.ToString(),
                                                   ": unable to read hosts file '", path,
                                                   "': ", std::strerror(errno)));
  }
  return *std::move(text);
}

}  // namespace

absl::StatusOr<HostsStage> MakeHostsStage(const config::ServerBlock& block,
                                          std::vector<std::string>& warnings) {
  const config::Hosts& hosts = *block.hosts;
  absl::StatusOr<std::string> file = ReadHostsFile(hosts, config::HostsFilePath(block), warnings);
  if (!file.ok()) return file.status();
  absl::StatusOr<std::vector<WireZone>> zones = ToWireZones(hosts.zones);
  if (!zones.ok()) return zones.status();
  absl::StatusOr<std::vector<WireZone>> fallthrough =
      ToWireZones(hosts.fallthrough.value_or(std::vector<std::string>{}));
  if (!fallthrough.ok()) return fallthrough.status();
  std::vector<std::string> lines;
  for (const config::HostsLine& line : hosts.inline_entries)
    lines.push_back(absl::StrJoin(line.fields, " "));
  std::shared_ptr<const HostsTable> table = HostsTable::Build(
      *file, lines, {.zones = *zones, .ttl = hosts.ttl, .reverse = !hosts.no_reverse});
  return HostsStage(std::move(table), *std::move(zones), *std::move(fallthrough));
}

Verdict HostsStage::OnQuery(QueryContext& ctx) const noexcept {
  wire::NameStorage lower;
  const std::span<const std::uint8_t> name(lower.data(), wire::WriteLookupKey(ctx.qname, lower));
  if (ctx.query.qtype == wire::rrtype::kPtr) {
    const std::span<const wire::LocalRecord> names = table_->FindPtr(name);
    if (names.empty()) return Verdict::kNext;
    return Answer(ctx, names);
  }
  if (!InAny(name, zones_)) return Verdict::kNext;
  const HostsTable::Addresses* found = table_->Find(name);
  if (found == nullptr) {
    if (InAny(name, fallthrough_)) return Verdict::kNext;
    const wire::Result<std::size_t> len =
        wire::BuildErrorAnswer(ctx.message, ctx.query, {.rcode = wire::rcode::kServFail}, ctx.room);
    if (!len) return Verdict::kDrop;  // cannot happen: the question fits the room it came in
    ++ctx.counters.hosts_servfail;
    ctx.answer_len = *len;
    return Verdict::kAnswered;
  }
  if (ctx.query.qtype == wire::rrtype::kA) return Answer(ctx, found->a);
  if (ctx.query.qtype == wire::rrtype::kAaaa) return Answer(ctx, found->aaaa);
  return Answer(ctx, {});  // NODATA: the name exists
}

Verdict HostsStage::Answer(QueryContext& ctx,
                           std::span<const wire::LocalRecord> records) const noexcept {
  wire::Result<std::size_t> len = wire::BuildLocalAnswer(ctx.message, ctx.query, records, ctx.room);
  bool cut = false;
  if (!len && len.error() == wire::Error::kBufferTooSmall && !ctx.tcp) {
    // More records than the query's buffer holds (a name with a hundred addresses, an
    // address with a hundred names): over UDP, as many as fit with TC set, as CoreDNS's
    // writer cuts them (RFC 2181 section 9). BuildLocalAnswer writes nothing when they
    // do not fit, so the count is searched for.
    std::size_t fits = 0;
    std::size_t too_many = records.size();
    while (too_many - fits > 1) {
      const std::size_t mid = fits + (too_many - fits) / 2;
      if (wire::BuildLocalAnswer(ctx.message, ctx.query, records.first(mid), ctx.room)) {
        fits = mid;
      } else {
        too_many = mid;
      }
    }
    len = wire::BuildLocalAnswer(ctx.message, ctx.query, records.first(fits), ctx.room);
    cut = true;
  }
  if (!len) {
    // Over TCP the same buffer holds no more: SERVFAIL, counted.
    const wire::Result<std::size_t> failed =
        wire::BuildErrorAnswer(ctx.message, ctx.query, {.rcode = wire::rcode::kServFail}, ctx.room);
    if (!failed) return Verdict::kDrop;
    ++ctx.counters.hosts_servfail;
    ctx.answer_len = *failed;
    return Verdict::kAnswered;
  }
  wire::SetAuthoritative(ctx.room);
  if (cut) {
    wire::StoreU16(ctx.room.data() + wire::header::kFlags,
                   static_cast<std::uint16_t>(
                       wire::LoadU16(ctx.room.data() + wire::header::kFlags) | wire::flag::kTc));
  }
  ++ctx.counters.hosts_answers;
  ctx.answer_len = *len;
  return Verdict::kAnswered;
}

}  // namespace ringdns::core
