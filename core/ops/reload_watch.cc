#include "core/ops/reload_watch.h"

#include <cstdlib>
#include <utility>

#include "core/base/read_file.h"

namespace ringdns::core {
WatchedFiles WatchedFiles::Read(const std::string& corefile_path, const config::Config& config) {
  return {ReadWholeFile(corefile_path), ReadTls(config), ReadHosts(config)};
}

WatchedFiles::HostsFiles WatchedFiles::ReadHosts(const config::Config& config) {
  HostsFiles hosts;
  for (const auto& block : config.blocks) {
    if (!block.hosts || block.hosts->reload <= absl::ZeroDuration()) continue;
    const std::string path = config::HostsFilePath(block);
    hosts.emplace_back(path, ReadWholeFile(path));
  }
  return hosts;
}

const std::string* WatchedFiles::HostsChangedSince(const WatchedFiles& before) const {
  for (std::size_t i = 0; i < hosts.size(); ++i) {
    if (!hosts[i].second) continue;
    if (i >= before.hosts.size() || hosts[i] != before.hosts[i]) return &hosts[i].first;
  }
  return nullptr;
}

std::string WatchedFiles::ReadTls(const config::Config& config) {
  std::string tls;
  const auto add = [&tls](const auto& named) {  // a block's or a forward's `tls` files
    for (const std::string* path : {&named.cert, &named.key, &named.ca}) {
      if (path->empty()) continue;
      tls.append(*path).push_back('\0');
      tls.append(ReadWholeFile(*path).value_or("(unreadable)")).push_back('\0');
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
    const absl::Duration d =
        block.reload->interval +
        absl::Milliseconds(std::rand() % (absl::ToInt64Milliseconds(block.reload->jitter) + 1));
    if (!every || d < *every) every = d;
  }
  return every;
}

std::optional<absl::Duration> HostsCheckInterval(const config::Config& config) {
  std::optional<absl::Duration> every;
  for (const auto& block : config.blocks) {
    if (!block.hosts || block.hosts->reload <= absl::ZeroDuration()) continue;
    if (!every || block.hosts->reload < *every) every = block.hosts->reload;
  }
  return every;
}

ReloadWatch::ReloadWatch(Options options, config::Config running, Hooks hooks)
    : options_(std::move(options)),
      running_(std::move(running)),
      hooks_(std::move(hooks)),
      watched_(WatchedFiles::Read(options_.corefile_path, running_)) {
  ScheduleCheck(true);
}

void ReloadWatch::ReloadNow(const char* why) {
  Reload(why);
  ScheduleCheck(true);
}

void ReloadWatch::Tick() {
  const absl::Time now = hooks_.now();
  if (now < next_check_ && now < next_hosts_check_) return;
  WatchedFiles seen = WatchedFiles::Read(options_.corefile_path, running_);
  // The reload plugin's check first: a new configuration reads its hosts files anyway.
  const char* why = now >= next_check_ ? seen.ChangedSince(watched_) : nullptr;
  if (why != nullptr) {
    Reload(why);
  } else if (const std::string* path = seen.HostsChangedSince(watched_)) {
    ReapplyForHosts(*path, std::move(seen));
  }
  ScheduleCheck(why != nullptr);
}

void ReloadWatch::ReapplyForHosts(const std::string& changed_path, WatchedFiles now) {
  // A copy: `changed_path` lives in `now`'s hosts files, which a failed re-apply frees.
  const std::string path = changed_path;
  // Only the hosts part becomes the baseline: an edited Corefile not yet due (or with no
  // reload plugin at all) stays a change for the reload plugin's own check. A failed
  // re-apply keeps the old baseline, so the next check tries again.
  WatchedFiles::HostsFiles before = std::move(watched_.hosts);
  watched_.hosts = std::move(now.hosts);
  hooks_.log("hosts file " + path + " changed: reloading", false);
  const absl::Status status = hooks_.apply(running_);
  if (!status.ok()) {
    watched_.hosts = std::move(before);
    hooks_.log("hosts file " + path + ": reload failed, still serving the previous entries: " +
                   std::string(status.message()),
               true);
  }
}

void ReloadWatch::Reload(const std::string& why) {
  // The next baseline is read before anything is loaded: the Corefile's bytes before it
  // is parsed, the TLS files the new configuration names before they are applied. A
  // file written meanwhile then shows as a change at the next check (one reload more),
  // never as one already taken. A failed reload keeps the files as they were, with the
  // running configuration's TLS files: the same bad files are not reloaded (and
  // reported) each interval, yet a key written after its certificate is not missed.
  // A failed reload keeps the hosts files' old baseline: the running tables were not
  // re-read, so a hosts file edited meanwhile is still a change for the next check.
  WatchedFiles before = WatchedFiles::Read(options_.corefile_path, running_);
  WatchedFiles::HostsFiles hosts_served = std::move(watched_.hosts);
  watched_ = before;
  watched_.hosts = std::move(hosts_served);
  if (options_.unnamed && !before.corefile) {
    hooks_.log(why + ": running on the built-in default Corefile; nothing to reload", false);
    return;
  }
  absl::StatusOr<config::Config> next = config::LoadCorefile(options_.corefile_path, options_.load);
  if (!next.ok()) hooks_.count_failure();
  WatchedFiles taken{before.corefile, next.ok() ? WatchedFiles::ReadTls(*next) : std::string(),
                     next.ok() ? WatchedFiles::ReadHosts(*next) : WatchedFiles::HostsFiles()};
  const absl::Status status = next.ok() ? hooks_.apply(*next) : next.status();
  if (!status.ok()) {
    hooks_.log(why + ": reload failed, still serving the previous configuration: " +
                   std::string(status.message()),
               true);
    return;
  }
  running_ = *std::move(next);
  watched_ = std::move(taken);
  hooks_.log(why + ": reloaded " + options_.corefile_path, false);
}

void ReloadWatch::ScheduleCheck(bool reloaded) {
  const absl::Time now = hooks_.now();
  // Each schedule moves once it is due, so a frequent hosts check never postpones the
  // reload plugin's; after a reload both restart, with the new configuration's intervals.
  if (reloaded || now >= next_check_)
    next_check_ = now + ReloadCheckInterval(running_).value_or(absl::InfiniteDuration());
  if (reloaded || now >= next_hosts_check_)
    next_hosts_check_ = now + HostsCheckInterval(running_).value_or(absl::InfiniteDuration());
}

}  // namespace ringdns::core
