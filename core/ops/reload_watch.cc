#include "core/ops/reload_watch.h"

#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <utility>

namespace ringdns::core {
namespace {

std::optional<std::string> ReadFile(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return std::nullopt;
  std::string text;
  char chunk[4096];
  while (const std::size_t n = std::fread(chunk, 1, sizeof(chunk), f)) text.append(chunk, n);
  std::fclose(f);
  return text;
}

bool FileExists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace

WatchedFiles WatchedFiles::Read(const std::string& corefile_path, const config::Config& config) {
  WatchedFiles files{ReadFile(corefile_path), {}};
  const auto add = [&files](const auto& named) {  // a block's or a forward's `tls` files
    for (const std::string* path : {&named.cert, &named.key, &named.ca}) {
      if (path->empty()) continue;
      files.tls.append(*path).push_back('\0');
      files.tls.append(ReadFile(*path).value_or("(unreadable)")).push_back('\0');
    }
  };
  for (const auto& block : config.blocks) {
    if (block.tls) add(*block.tls);
    for (const auto& forward : block.forwards) {
      if (forward.tls) add(*forward.tls);
    }
  }
  return files;
}

const char* WatchedFiles::ChangedSince(const WatchedFiles& before) const {
  if (!corefile || !before.corefile) return nullptr;
  if (*corefile != *before.corefile) return "reload (the Corefile changed)";
  if (tls != before.tls) return "reload (a certificate, key or CA file changed)";
  return nullptr;
}

std::optional<absl::Duration> ReloadCheckInterval(const config::Config& config) {
  std::optional<absl::Duration> every;
  for (const auto& block : config.blocks) {
    if (!block.reload) continue;
    const absl::Duration d = block.reload->interval +
                             absl::Milliseconds(std::rand() % (absl::ToInt64Milliseconds(block.reload->jitter) + 1));
    if (!every || d < *every) every = d;
  }
  return every;
}

ReloadWatch::ReloadWatch(Options options, config::Config running, Hooks hooks)
    : options_(std::move(options)), running_(std::move(running)), hooks_(std::move(hooks)),
      watched_(WatchedFiles::Read(options_.corefile_path, running_)) {
  ScheduleCheck();
}

void ReloadWatch::ReloadNow(const char* why) {
  Reload(why);
  watched_ = WatchedFiles::Read(options_.corefile_path, running_);
  ScheduleCheck();
}

void ReloadWatch::Tick() {
  if (hooks_.now() < next_check_) return;
  WatchedFiles seen = WatchedFiles::Read(options_.corefile_path, running_);
  if (const char* why = seen.ChangedSince(watched_)) {
    // A failed reload leaves what this check saw as the baseline, so the same bad files
    // are not reloaded (and reported) again each interval, yet a key written after its
    // certificate (a failed reload, then a good one) is not missed. A good one reads the
    // files its configuration names, which may not be those the old one named.
    watched_ = Reload(why) ? WatchedFiles::Read(options_.corefile_path, running_) : std::move(seen);
  }
  ScheduleCheck();
}

bool ReloadWatch::Reload(const std::string& why) {
  if (options_.unnamed && !FileExists(options_.corefile_path)) {
    hooks_.log(why + ": running on the built-in default Corefile; nothing to reload", false);
    return false;
  }
  absl::StatusOr<config::Config> next = config::LoadCorefile(options_.corefile_path, options_.load);
  if (!next.ok()) hooks_.count_failure();
  const absl::Status status = next.ok() ? hooks_.apply(*next) : next.status();
  if (!status.ok()) {
    hooks_.log(why + ": reload failed, still serving the previous configuration: " + std::string(status.message()),
               true);
    return false;
  }
  running_ = *std::move(next);
  hooks_.log(why + ": reloaded " + options_.corefile_path, false);
  return true;
}

void ReloadWatch::ScheduleCheck() {
  next_check_ = hooks_.now() + ReloadCheckInterval(running_).value_or(absl::InfiniteDuration());
}

}  // namespace ringdns::core
