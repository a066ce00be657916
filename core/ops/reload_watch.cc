#include "core/ops/reload_watch.h"

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

}  // namespace

WatchedFiles WatchedFiles::Read(const std::string& corefile_path, const config::Config& config) {
  return {ReadFile(corefile_path), ReadTls(config)};
}

std::string WatchedFiles::ReadTls(const config::Config& config) {
  std::string tls;
  const auto add = [&tls](const auto& named) {  // a block's or a forward's `tls` files
    for (const std::string* path : {&named.cert, &named.key, &named.ca}) {
      if (path->empty()) continue;
      tls.append(*path).push_back('\0');
      tls.append(ReadFile(*path).value_or("(unreadable)")).push_back('\0');
    }
  };
  for (const auto& block : config.blocks) {
    if (block.tls) add(*block.tls);
    for (const auto& forward : block.forwards) {
      if (forward.tls) add(*forward.tls);
    }
  }
  return tls;
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
  ScheduleCheck();
}

void ReloadWatch::Tick() {
  if (hooks_.now() < next_check_) return;
  if (const char* why = WatchedFiles::Read(options_.corefile_path, running_).ChangedSince(watched_)) Reload(why);
  ScheduleCheck();
}

void ReloadWatch::Reload(const std::string& why) {
  // The next baseline is read before anything is loaded: the Corefile's bytes before it
  // is parsed, the TLS files the new configuration names before they are applied. A
  // file written meanwhile then shows as a change at the next check (one reload more),
  // never as one already taken. A failed reload keeps the files as they were, with the
  // running configuration's TLS files: the same bad files are not reloaded (and
  // reported) each interval, yet a key written after its certificate is not missed.
  WatchedFiles before = WatchedFiles::Read(options_.corefile_path, running_);
  watched_ = before;
  if (options_.unnamed && !before.corefile) {
    hooks_.log(why + ": running on the built-in default Corefile; nothing to reload", false);
    return;
  }
  absl::StatusOr<config::Config> next = config::LoadCorefile(options_.corefile_path, options_.load);
  if (!next.ok()) hooks_.count_failure();
  WatchedFiles taken{before.corefile, next.ok() ? WatchedFiles::ReadTls(*next) : std::string()};
  const absl::Status status = next.ok() ? hooks_.apply(*next) : next.status();
  if (!status.ok()) {
    hooks_.log(why + ": reload failed, still serving the previous configuration: " + std::string(status.message()),
               true);
    return;
  }
  running_ = *std::move(next);
  watched_ = std::move(taken);
  hooks_.log(why + ": reloaded " + options_.corefile_path, false);
}

void ReloadWatch::ScheduleCheck() {
  next_check_ = hooks_.now() + ReloadCheckInterval(running_).value_or(absl::InfiniteDuration());
}

}  // namespace ringdns::core
