#include "core/query_logger.h"

#include <arpa/inet.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "core/config/parse_util.h"
#include "core/metrics.h"
#include "wire/message.h"
#include "wire/name.h"

namespace ringdns::core {
namespace {

constexpr std::string_view kCommon =
    "{remote}:{port} - {>id} \"{type} {class} {name} {proto} {size} {>do} {>bufsize}\" {rcode} "
    "{>rflags} {rsize} {duration}";
constexpr std::int64_t kDrainEveryMs = 20;
// Lines from several configurations' loggers (during a reload) never interleave.
std::mutex write_mu;

std::int64_t NowMs() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return std::int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1'000'000;
}

std::string Remote(const LogRecord& r) {
  char text[INET6_ADDRSTRLEN] = "-";
  if (r.remote.sin6_family == AF_INET6) {
    ::inet_ntop(AF_INET6, &r.remote.sin6_addr, text, sizeof(text));
    return absl::StrCat("[", text, "]");  // RFC 3986, as CoreDNS prints it
  }
  const auto* v4 = reinterpret_cast<const sockaddr_in*>(&r.remote);
  ::inet_ntop(AF_INET, &v4->sin_addr, text, sizeof(text));
  return text;
}

std::string Name(const LogRecord& r) {
  char text[wire::kMaxNameTextLen];
  const wire::Result<std::size_t> len = wire::NameToText({r.qname, r.qname_len}, text);
  return len ? std::string(text, *len) : "-";
}

std::string Class(std::uint16_t qclass) {
  switch (qclass) {
    case 1: return "IN";
    case 3: return "CH";
    case 4: return "HS";
    case 254: return "NONE";
    case 255: return "ANY";
    default: return absl::StrCat("CLASS", qclass);
  }
}

std::string ResponseFlags(std::uint16_t flags) {
  std::string out;
  const std::pair<std::uint16_t, const char*> names[] = {
      {wire::flag::kQr, "qr"}, {wire::flag::kAa, "aa"}, {wire::flag::kTc, "tc"},
      {wire::flag::kRd, "rd"}, {wire::flag::kRa, "ra"}, {0x0040, "z"},
      {wire::flag::kAd, "ad"}, {wire::flag::kCd, "cd"}};
  for (const auto& [bit, name] : names) {
    if ((flags & bit) == 0) continue;
    if (!out.empty()) out += ',';
    out += name;
  }
  return out.empty() ? "-" : out;
}

std::string Seconds(std::int64_t us) {
  // Go's FormatFloat(seconds, 'f', -1): no trailing zeros.
  char text[32];
  std::snprintf(text, sizeof(text), "%lld.%06lld", static_cast<long long>(us / 1'000'000),
                static_cast<long long>(us % 1'000'000));
  std::string out = text;
  while (out.back() == '0') out.pop_back();
  if (out.back() == '.') out.pop_back();
  return out + "s";
}

// One placeholder's value; nullopt for an unknown one.
std::optional<std::string> Placeholder(std::string_view name, const LogRecord& r) {
  const std::uint16_t rcode = r.flags & wire::flag::kRcodeMask;
  if (name == "remote") return Remote(r);
  if (name == "port") return absl::StrCat(ntohs(r.remote.sin6_port));
  if (name == "proto") return std::string(r.tcp ? "tcp" : "udp");
  if (name == "type") return config::QtypeName(r.qtype);
  if (name == "class") return Class(r.qclass);
  if (name == "name") return Name(r);
  if (name == "size") return absl::StrCat(r.size);
  if (name == "rcode") return std::string(rcode < kRcodeSlots ? RcodeName(rcode) : "other");
  if (name == "rsize") return absl::StrCat(r.rsize);
  if (name == "duration") return Seconds(r.duration_us);
  if (name == ">id") return absl::StrCat(r.id);
  if (name == ">opcode") return absl::StrCat(wire::Opcode(r.flags));
  if (name == ">do") return std::string(r.do_bit ? "true" : "false");
  if (name == ">bufsize") return absl::StrCat(r.bufsize);
  if (name == ">rflags") return ResponseFlags(r.flags);
  return std::nullopt;
}

const char* ErrorReason(LogError e) {
  switch (e) {
    case LogError::kUpstreamsFailed: return "every attempt to the upstreams timed out or failed";
    case LogError::kNoHealthyUpstreams: return "no healthy upstreams";
    case LogError::kNoForward: return "no forward for this name";
    case LogError::kMaxConcurrent: return "concurrent queries exceeded maximum";
    case LogError::kSlotsFull: return "too many queries in flight";
    case LogError::kNone: break;
  }
  return "error";
}

std::string LevelPrefix(const std::string& level) {
  if (level == "warning") return "[WARNING]";
  if (level == "info") return "[INFO]";
  if (level == "debug") return "[DEBUG]";
  return "[ERROR]";
}

}  // namespace

std::string FormatLogLine(std::string_view format, const LogRecord& record) {
  std::string out;
  std::size_t i = 0;
  while (i < format.size()) {
    const std::size_t open = format.find('{', i);
    const std::size_t close = open == std::string_view::npos ? open : format.find('}', open);
    if (close == std::string_view::npos) {
      out.append(format.substr(i));
      break;
    }
    out.append(format.substr(i, open - i));
    const std::string_view name = format.substr(open + 1, close - open - 1);
    if (name == "common" || name == "combined") {
      out += FormatLogLine(kCommon, record);
      if (name == "combined") absl::StrAppend(&out, " \"", wire::Opcode(record.flags), "\"");
    } else {
      out += Placeholder(name, record).value_or("-");
    }
    i = close + 1;
  }
  return out;
}

std::string FormatErrorMessage(const LogRecord& record) {
  return absl::StrCat(record.flags & wire::flag::kRcodeMask, " ", Name(record), " ",
                      config::QtypeName(record.qtype), ": ", ErrorReason(record.error));
}

bool LogClassTakes(const std::vector<config::LogClass>& classes, const LogRecord& r) {
  const std::uint16_t rcode = r.flags & wire::flag::kRcodeMask;
  // CoreDNS's classes: NOERROR with records is success; NXDOMAIN, and NOERROR without
  // answers (NODATA), are denial; every other RCODE is an error.
  const config::LogClass cls =
      rcode == wire::rcode::kNoError
          ? (r.answers > 0 ? config::LogClass::kSuccess : config::LogClass::kDenial)
      : rcode == wire::rcode::kNxDomain ? config::LogClass::kDenial
                                        : config::LogClass::kError;
  for (config::LogClass c : classes) {
    if (c == config::LogClass::kAll || c == cls) return true;
  }
  return false;
}

QueryLogger::QueryLogger(const RouteTable& routes, std::vector<LogQueue*> queues, int fd)
    : routes_(routes), queues_(std::move(queues)), fd_(fd) {
  for (const BlockRoute& block : routes_.blocks) {
    std::vector<WireZone>& names = log_names_.emplace_back();
    for (const config::Log& log : block.logs) {
      for (const std::string& n : log.names) {
        if (absl::StatusOr<WireZone> zone = ToWireZone(n); zone.ok()) names.push_back(*zone);
      }
    }
    std::vector<Consolidation>& rules = consolidations_.emplace_back();
    if (!block.errors) continue;
    for (const config::Consolidate& c : block.errors->consolidate) {
      const std::int64_t period = absl::ToInt64Milliseconds(c.period);
      rules.push_back({std::regex(c.pattern), c.pattern, LevelPrefix(c.level), period, 0, 0});
    }
  }
  thread_ = std::thread([this] { Run(); });
}

QueryLogger::~QueryLogger() {
  stopping_.store(true, std::memory_order_relaxed);
  stop_.Signal();
  thread_.join();
  DrainOnce(NowMs(), /*final=*/true);  // what the shards wrote before they stopped
}

std::int64_t QueryLogger::NextSummaryMs() const noexcept {
  std::int64_t next = INT64_MAX;
  for (const std::vector<Consolidation>& rules : consolidations_) {
    for (const Consolidation& c : rules) {
      if (c.count > 0) next = std::min(next, c.due_ms);
    }
  }
  return next;
}

void QueryLogger::Run() {
  // Without eventfds (none to spare) the thread looks every tick instead of sleeping.
  bool can_sleep = stop_.valid();
  std::vector<pollfd> polls{{stop_.fd(), POLLIN, 0}};
  for (LogQueue* queue : queues_) {
    polls.push_back({queue->doorbell(), POLLIN, 0});
    can_sleep = can_sleep && queue->doorbell() >= 0;
  }
  bool drained_some = true;
  while (!stopping_.load(std::memory_order_relaxed)) {
    // While records come, one batch per tick. Once a drain found none, sleep until a
    // queue rings or a summary is due (an hour at most: poll takes an int).
    std::int64_t wait_ms = kDrainEveryMs;
    if (!drained_some && can_sleep) {
      bool parked = true;
      for (LogQueue* queue : queues_) parked = queue->Park() && parked;
      const std::int64_t next = NextSummaryMs();
      wait_ms = !parked             ? 0
                : next == INT64_MAX ? 3'600'000
                                    : std::clamp<std::int64_t>(next - NowMs(), 0, 3'600'000);
    }
    (void)::poll(polls.data(), polls.size(), static_cast<int>(wait_ms));
    for (std::size_t i = 1; i < polls.size(); ++i) {
      if (polls[i].revents != 0) queues_[i - 1]->Unring();
    }
    drained_some = DrainOnce(NowMs(), /*final=*/false) > 0;
  }
}

void QueryLogger::Take(const LogRecord& r, std::int64_t now, std::string& out) {
  if (r.block >= routes_.blocks.size()) return;
  const BlockRoute& block = routes_.blocks[r.block];
  if (r.error != LogError::kNone && block.errors) {
    const std::string message = FormatErrorMessage(r);
    bool consolidated = false;
    for (Consolidation& c : consolidations_[r.block]) {
      if (std::regex_search(message, c.pattern)) {
        if (c.count++ == 0) c.due_ms = now + c.period_ms;  // summarised a period after the first
        consolidated = true;
        break;
      }
    }
    if (!consolidated) absl::StrAppend(&out, "[ERROR] plugin/errors: ", message, "\n");
  }
  for (std::size_t l = 0, name_base = 0; l < block.logs.size(); ++l) {
    const config::Log& log = block.logs[l];
    bool named = false;
    for (std::size_t n = 0; n < log.names.size(); ++n) {
      named = named || (name_base + n < log_names_[r.block].size() &&
                        InZone({r.qname, r.qname_len}, log_names_[r.block][name_base + n].view()));
    }
    name_base += log.names.size();
    if (named && LogClassTakes(log.classes, r))
      absl::StrAppend(&out, "[INFO] ", FormatLogLine(log.format, r), "\n");
  }
}

std::uint64_t QueryLogger::DrainOnce(std::int64_t now, bool final) {
  std::string out;
  std::uint64_t taken = 0;
  for (LogQueue* queue : queues_) {
    taken += queue->Drain([&](const LogRecord& r) { Take(r, now, out); });
  }
  for (std::vector<Consolidation>& rules : consolidations_) {
    for (Consolidation& c : rules) {
      if (c.count == 0 || (now < c.due_ms && !final)) continue;
      absl::StrAppend(&out, c.level, " plugin/errors: ", c.count, " errors like '", c.text,
                      "' occurred in last ", absl::FormatDuration(absl::Milliseconds(c.period_ms)),
                      "\n");
      c.count = 0;
    }
  }
  if (out.empty()) return taken;
  std::lock_guard<std::mutex> lock(write_mu);
  for (std::size_t done = 0; done < out.size();) {
    const ssize_t n = ::write(fd_, out.data() + done, out.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // a closed stdout: the lines are lost, never the queries
    done += static_cast<std::size_t>(n);
  }
  return taken;
}

}  // namespace ringdns::core
