// core/query_logger.h: the `log` and `errors` lines of one configuration's shards,
// formatted and written on a thread of its own so a shard never waits on a write.
//
// Shards push a LogRecord per answer of a block with `log` or `errors` into their own
// LogQueue; this thread drains every queue every few milliseconds while records come,
// applies each block's names and classes, formats CoreDNS's lines ({common}, {combined}
// or a custom format) and writes them in one write per batch; with nothing to drain it
// sleeps until a queue's doorbell rings. `errors { consolidate DURATION REGEXP }` lines
// are counted instead and summarised DURATION after the first, as CoreDNS does.
#pragma once

#include <atomic>
#include <cstdint>
#include <regex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/log_queue.h"
#include "core/routes.h"
#include "ring/wake.h"

namespace ringdns::core {

// CoreDNS's `log` line for `record` in `format` (placeholders as CoreDNS's replacer:
// {remote} {port} {proto} {type} {class} {name} {size} {rcode} {rsize} {duration}
// {>id} {>opcode} {>do} {>bufsize} {>rflags}, and {common} / {combined}); unknown
// placeholders print "-".
std::string FormatLogLine(std::string_view format, const LogRecord& record);
// The `errors` message of a record ringdns answered with an error of its own:
// "2 NAME. TYPE: why", as CoreDNS's errors plugin prints it after its prefix.
std::string FormatErrorMessage(const LogRecord& record);
// Whether `log`'s classes take the record (success, denial, error, all; CoreDNS's
// response classes).
bool LogClassTakes(const std::vector<config::LogClass>& classes, const LogRecord& record);

class QueryLogger {
 public:
  // Writes to `fd` (stdout in production). `queues` are the shards', outliving this.
  QueryLogger(const RouteTable& routes, std::vector<LogQueue*> queues, int fd);
  ~QueryLogger();  // drains what the shards left, writes it, and stops
  QueryLogger(const QueryLogger&) = delete;
  QueryLogger& operator=(const QueryLogger&) = delete;

 private:
  struct Consolidation {
    std::regex pattern;
    std::string text;   // as written, for the summary line
    std::string level;  // "[ERROR]" ...
    std::int64_t period_ms = 0;
    std::int64_t due_ms = 0;  // the summary's, while count > 0
    std::uint64_t count = 0;
  };
  void Run();
  // `final`: the summaries of consolidated errors are due now, whatever their period.
  // Returns how many records it took.
  std::uint64_t DrainOnce(std::int64_t now_ms, bool final);
  void Take(const LogRecord& record, std::int64_t now_ms, std::string& out);
  // When the first summary of consolidated errors is due; INT64_MAX when none is.
  std::int64_t NextSummaryMs() const noexcept;

  const RouteTable& routes_;
  std::vector<LogQueue*> queues_;
  const int fd_;
  std::vector<std::vector<WireZone>> log_names_;            // per block, per `log`
  std::vector<std::vector<Consolidation>> consolidations_;  // per block
  std::atomic<bool> stopping_{false};
  ring::EventFd stop_;  // the destructor wakes the thread through it
  std::thread thread_;
};

}  // namespace ringdns::core
