// core/ops/reload_watch.h: the control thread's reloads. A signal asks for one at once;
// the `reload` plugin asks for a check every INTERVAL (plus up to JITTER), and a check
// reloads when the Corefile or a certificate, key or CA file it names has changed.
//
// CoreDNS's reload watches the Corefile only; here a certificate renewed in place
// (cert-manager rewriting a mounted Secret) is taken up like an edited Corefile. A bad
// Corefile is reported with its position and the running configuration stays.
// A `hosts` file is checked every `reload` of its hosts directive (CoreDNS's default 5 s,
// 0: never), with or without the reload plugin; a change re-applies the running
// configuration, which reads the file again (caches and health are kept). Such a check
// never takes up an edited Corefile on its own: that is the reload plugin's (or a signal's).
// The clock is a hook, so a test drives it.
// Thread affinity: the control thread.
#pragma once

#include <algorithm>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/config/config.h"
#include "core/config/loader.h"

namespace ringdns::core {

// What a check compares: the Corefile's bytes (CoreDNS hashes them too), and every
// TLS file's path and bytes.
struct WatchedFiles {
  std::optional<std::string> corefile;  // nullopt: unreadable, nothing is compared
  std::string tls;
  // Each watched hosts file's path and bytes (nullopt: unreadable), in block order.
  using HostsFiles = std::vector<std::pair<std::string, std::optional<std::string>>>;
  HostsFiles hosts;

  static WatchedFiles Read(const std::string& corefile_path, const config::Config& config);
  static std::string ReadTls(const config::Config& config);  // the `tls` part
  static HostsFiles ReadHosts(const config::Config& config);
  // The first hosts file whose bytes differ from `before`'s, or nullptr. A file that
  // cannot be read now is no change: CoreDNS keeps serving what it last read (a
  // ConfigMap's files are swapped, not edited).
  const std::string* HostsChangedSince(const WatchedFiles& before) const;
  // Why a reload is due ("the Corefile changed", ...), or nullptr.
  const char* ChangedSince(const WatchedFiles& before) const;
};

// `reload [INTERVAL [JITTER]]`: the shortest interval any block asks for, each with its
// own random share of its jitter, so replicas do not reload in step; nullopt: never.
std::optional<absl::Duration> ReloadCheckInterval(const config::Config& config);
// The shortest `reload` of the hosts directives that watch their file; nullopt: none does.
std::optional<absl::Duration> HostsCheckInterval(const config::Config& config);

class ReloadWatch {
 public:
  struct Hooks {
    // Swaps a loaded configuration in (Daemon::Reload); an error keeps the running one.
    std::function<absl::Status(const config::Config&)> apply;
    // The Corefile did not load: counted (Daemon::CountFailedReload).
    std::function<void()> count_failure;
    // One line for the operator: `error` says whether it reports a failure.
    std::function<void(const std::string& line, bool error)> log;
    std::function<absl::Time()> now = [] { return absl::Now(); };
  };
  struct Options {
    std::string corefile_path;
    // No Corefile was named (-conf): `corefile_path` is ./Corefile, and while it does
    // not exist ringdns runs on its built-in default, with nothing to reload.
    bool unnamed = false;
    config::LoadOptions load;
  };
  ReloadWatch(Options options, config::Config running, Hooks hooks);

  // A signal (SIGHUP, SIGUSR1) asks for a reload now; `why` names it.
  void ReloadNow(const char* why);
  // Each tick of the control loop: a check when one is due.
  void Tick();

  const config::Config& running() const noexcept { return running_; }
  // When Tick next has a check to make (absl::InfiniteFuture() without `reload` or a
  // watched hosts file).
  absl::Time next_check() const noexcept { return std::min(next_check_, next_hosts_check_); }

 private:
  // Loads the Corefile and applies it; a failure is logged and changes nothing running.
  void Reload(const std::string& why);
  // Re-applies the running configuration: its hosts file `path` changed.
  void ReapplyForHosts(const std::string& changed_path, WatchedFiles now);
  // The next checks: an interval after now (after the reload, which may take seconds).
  void ScheduleCheck(bool reloaded);

  const Options options_;
  config::Config running_;
  Hooks hooks_;
  // What the last check or reload saw, with the files the running configuration names:
  // later changes are measured against it.
  WatchedFiles watched_;
  absl::Time next_check_;        // the Corefile and TLS files (the reload plugin)
  absl::Time next_hosts_check_;  // the hosts files
};

}  // namespace ringdns::core
