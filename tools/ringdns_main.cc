// ringdns: the daemon's entry point. Flags follow CoreDNS: -flag and --flag both work.
//
//   -conf FILE      the Corefile (default ./Corefile; without one, a built-in default)
//   -dns.port PORT  the port of server blocks that name none (default 53)
//   -validate       parse the Corefile, print it normalised (and, on stderr, the most
//                   memory its shards can hold), exit 0 or 1
//   -shards N       shard threads (default: one per usable CPU)
//   -io BACKEND     `auto` (default: io_uring where the kernel allows it, else epoll),
//                   `io_uring` (fail where it is refused) or `epoll`
//   -pin            pin shard i to the i-th usable CPU (for dedicated cores only)
//   -steering MODE  which shard a UDP query goes to: `question` (default; one name, one
//                   shard, so the shards' caches act as one) or `client` (the kernel's
//                   hash of the client's address and port, for comparison)
//   -user NAME      once every socket is bound, run as NAME (with no capabilities left)
//   -version        print the version and exit
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "absl/time/clock.h"
#include "core/base/version.h"
#include "core/config/loader.h"
#include "core/daemon.h"
#include "core/http_endpoints.h"
#include "core/ops/reload_watch.h"
#include "core/privileges.h"

namespace {

using ringdns::core::config::Config;
using ringdns::core::config::LoadOptions;

struct Flags {
  std::optional<std::string> conf;
  LoadOptions load;
  bool validate = false;
  bool version = false;
  int shards = 0;
  ringdns::ring::Backend io_backend = ringdns::ring::Backend::kAuto;
  bool pin = false;
  bool steer_by_question = true;
  std::optional<std::string> user;
};

int Usage(const char* error) {
  std::fprintf(stderr,
               "ringdns: %s\nusage: ringdns [-conf FILE] [-dns.port PORT] [-validate] "
               "[-shards N] [-io auto|io_uring|epoll] [-pin] [-steering question|client] [-user "
               "NAME] [-version]\n",
               error);
  return 2;
}

bool ParseInt(const char* text, int min, int max, int& out) {
  char* end = nullptr;
  const long value = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || value < min || value > max) return false;
  out = static_cast<int>(value);
  return true;
}

// Returns an exit code when the command line is bad, nullopt when it parsed.
std::optional<int> ParseFlags(int argc, char** argv, Flags& flags) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.size() > 2 && arg[0] == '-' && arg[1] == '-') arg.remove_prefix(1);
    std::string value;
    bool has_value = false;
    if (const std::size_t eq = arg.find('='); eq != std::string_view::npos) {
      value = std::string(arg.substr(eq + 1));
      arg = arg.substr(0, eq);
      has_value = true;
    }
    auto take_value = [&]() -> bool {
      if (has_value) return true;
      if (i + 1 >= argc) return false;
      value = argv[++i];
      return true;
    };
    if (arg == "-version") {
      flags.version = true;
    } else if (arg == "-validate") {
      flags.validate = true;
    } else if (arg == "-conf") {
      if (!take_value()) return Usage("-conf needs a file");
      flags.conf = value;
    } else if (arg == "-dns.port") {
      int port = 0;
      if (!take_value() || !ParseInt(value.c_str(), 1, 65535, port)) {
        return Usage("-dns.port needs a port from 1 to 65535");
      }
      flags.load.dns_port = static_cast<std::uint16_t>(port);
    } else if (arg == "-user") {
      if (!take_value() || value.empty()) return Usage("-user needs a user name");
      flags.user = value;
    } else if (arg == "-pin") {
      flags.pin = true;
    } else if (arg == "-steering") {
      if (!take_value() || (value != "question" && value != "client")) {
        return Usage("-steering needs `question` or `client`");
      }
      flags.steer_by_question = value == "question";
    } else if (arg == "-io") {
      if (!take_value() || !ringdns::ring::ParseBackend(value, flags.io_backend)) {
        return Usage("-io needs `auto`, `io_uring` or `epoll`");
      }
    } else if (arg == "-shards") {
      if (!take_value() || !ParseInt(value.c_str(), 1, 1024, flags.shards)) {
        return Usage("-shards needs a number from 1 to 1024");
      }
    } else {
      return Usage(("unknown flag " + std::string(argv[i])).c_str());
    }
  }
  return std::nullopt;
}

bool FileExists(const char* path) {
  struct stat st {};
  return ::stat(path, &st) == 0;
}

void Log(const std::string& line) { std::fprintf(stderr, "[INFO] %s\n", line.c_str()); }

// For -validate: the most the shards of this configuration can hold, every pool full,
// so that a container's memory limit can be chosen (or checked) before deploying.
void PrintMemoryBound(const Config& config, const Flags& flags) {
  absl::StatusOr<ringdns::core::RouteTable> routes = ringdns::core::BuildRoutes(config);
  if (!routes.ok()) {
    std::fprintf(stderr, "[INFO] memory: not computed here (%s)\n",
                 std::string(routes.status().message()).c_str());
    return;
  }
  const int shards = flags.shards > 0 ? flags.shards : ringdns::core::DefaultShardCount();
  const double mib = static_cast<double>(ringdns::core::Shard::MemoryBound(
                         ringdns::core::ShardOptions{}, *routes)) /
                     (1 << 20);
  std::fprintf(
      stderr, "[INFO] memory: at most %.1f MiB a shard with every pool full; %d shards: %.1f MiB\n",
      mib, shards, mib * shards);
}

// One line when the container's memory limit made the shards smaller than configured.
void LogMemoryFit(const ringdns::core::Daemon& daemon) {
  const ringdns::core::MemoryFit& fit = daemon.memory_fit();
  if (!fit.note.empty())
    std::fprintf(stderr, "[%s] %s\n", fit.fits ? "INFO" : "WARNING", fit.note.c_str());
  if (!daemon.descriptor_warning().empty()) {
    std::fprintf(stderr, "[WARNING] %s\n", daemon.descriptor_warning().c_str());
  }
}

// Runs the shards until SIGTERM or SIGINT, then drains them and exits 0.
int Serve(Config config, const Flags& flags) {
  // Block the signals before any shard thread starts, so only this thread takes them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  sigaddset(&signals, SIGUSR1);
  ::pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  ringdns::core::ForbidNewPrivileges();
  ringdns::core::DaemonOptions options;
  options.shards = flags.shards;
  options.pin_shards = flags.pin;
  options.steer_by_question = flags.steer_by_question;
  options.shard.io_backend = flags.io_backend;
  absl::StatusOr<std::unique_ptr<ringdns::core::Daemon>> daemon =
      ringdns::core::Daemon::Start(config, options);
  if (!daemon.ok()) {
    std::fprintf(stderr, "ringdns: %s\n", std::string(daemon.status().message()).c_str());
    return 1;
  }
  for (const std::string& warning : (*daemon)->warnings()) {
    std::fprintf(stderr, "[WARNING] %s\n", warning.c_str());
  }
  LogMemoryFit(**daemon);
  // /metrics, /health and /ready, on their own threads. Ready once the shards serve;
  // not ready (health still OK) during a lameduck period before stopping.
  std::atomic<bool> stopping{false};
  ringdns::core::Daemon* running = daemon->get();
  absl::StatusOr<std::unique_ptr<ringdns::core::HttpEndpoints>> endpoints =
      ringdns::core::HttpEndpoints::Start(
          config, {[running] { return running->Metrics(); },
                   [running, &stopping] { return running->ready() && !stopping.load(); },
                   [] { return true; }});
  if (!endpoints.ok()) {
    std::fprintf(stderr, "ringdns: %s\n", std::string(endpoints.status().message()).c_str());
    return 1;
  }
  // Every listener is bound: give up root before serving a query's worth of trust.
  if (flags.user) {
    if (absl::Status dropped = ringdns::core::DropPrivileges(*flags.user); !dropped.ok()) {
      std::fprintf(stderr, "ringdns: %s\n", std::string(dropped.message()).c_str());
      return 1;
    }
    Log("running as user " + *flags.user + " (uid " + std::to_string(::getuid()) +
        "), no capabilities");
  } else if (::geteuid() == 0) {
    std::fprintf(stderr,
                 "[WARNING] running as root; -user NAME drops to an unprivileged user once the "
                 "sockets are bound\n");
  }
  Log("ringdns-" + std::string(ringdns::core::Version()) + " serving " + config.file + " on " +
      std::to_string((*daemon)->shard_count()) + " shards (" + (*daemon)->ring_description() +
      "), UDP queries spread " + (*daemon)->udp_steering());
  if ((*daemon)->shard_count() > 1 && flags.steer_by_question && !(*daemon)->udp_steered()) {
    std::fprintf(
        stderr,
        "[WARNING] UDP queries cannot be steered to shards by question: each shard's cache "
        "serves the clients the kernel sends it, so a name may be asked upstream once per shard\n");
  }
  // The control loop: signals, `reload` checks, and joining replaced shards.
  ringdns::core::ReloadWatch reloads(
      {.corefile_path = flags.conf.value_or("Corefile"),
       .unnamed = !flags.conf,
       .load = flags.load},
      config,
      {.apply =
           [&daemon](const Config& next) {
             absl::Status status = (*daemon)->Reload(next);
             if (!status.ok()) return status;
             for (const std::string& warning : (*daemon)->warnings()) {
               std::fprintf(stderr, "[WARNING] %s\n", warning.c_str());
             }
             LogMemoryFit(**daemon);
             return status;
           },
       .count_failure = [&daemon] { (*daemon)->CountFailedReload(); },
       .log =
           [](const std::string& line, bool error) {
             std::fprintf(stderr, "[%s] %s\n", error ? "ERROR" : "INFO", line.c_str());
           },
       .now = [] { return absl::Now(); }});
  while (true) {
    // Asleep until a signal or the next `reload` check, or for a second while a reload's
    // old shards drain (to join them): an idle daemon's control thread does not tick.
    absl::Duration wait =
        std::clamp(reloads.next_check() - absl::Now(), absl::Milliseconds(1), absl::Hours(1));
    if ((*daemon)->retiring() > 0) wait = std::min(wait, absl::Seconds(1));
    const timespec tick = absl::ToTimespec(wait);
    const int signal = ::sigtimedwait(&signals, nullptr, &tick);
    if (signal == SIGTERM || signal == SIGINT) break;
    if (signal == SIGHUP || signal == SIGUSR1) {
      reloads.ReloadNow(signal == SIGHUP ? "SIGHUP" : "SIGUSR1");
    } else {
      reloads.Tick();
    }
    (*daemon)->ReapRetired();
  }
  stopping.store(true);
  // health { lameduck D }: keep serving (and /health OK, /ready not) for D first, so a
  // load balancer drains this instance before it goes.
  absl::Duration lameduck = absl::ZeroDuration();
  for (const auto& block : reloads.running().blocks) {
    if (block.health) lameduck = std::max(lameduck, block.health->lameduck);
  }
  if (lameduck > absl::ZeroDuration()) {
    Log("lameduck: serving " + absl::FormatDuration(lameduck) + " more before stopping");
    absl::SleepFor(lameduck);
  }
  Log("stopping: finishing in-flight queries");
  (*daemon)->RequestStop();
  (*daemon)->Wait();
  const ringdns::core::ShardCounters totals = (*daemon)->totals();
  Log("stopped: " + ringdns::core::FormatCounters(totals));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  if (std::optional<int> exit_code = ParseFlags(argc, argv, flags)) return *exit_code;
  const std::string_view version = ringdns::core::Version();
  if (flags.version) {
    std::printf("ringdns-%.*s\n", static_cast<int>(version.size()), version.data());
    return 0;
  }

  absl::StatusOr<Config> config;
  if (!flags.conf && !FileExists("Corefile")) {
    std::fprintf(stderr,
                 "ringdns: no Corefile given and none in the current folder; using the "
                 "built-in default:\n%s",
                 ringdns::core::config::kDefaultCorefile);
    config = ringdns::core::config::ParseCorefile(ringdns::core::config::kDefaultCorefile,
                                                  "<default Corefile>", flags.load);
  } else {
    config = ringdns::core::config::LoadCorefile(flags.conf.value_or("Corefile"), flags.load);
  }
  if (!config.ok()) {
    std::fprintf(stderr, "ringdns: %s\n", std::string(config.status().message()).c_str());
    return 1;
  }
  if (flags.validate) {
    std::fputs(ringdns::core::config::FormatCorefile(*config).c_str(), stdout);
    PrintMemoryBound(*config, flags);
    return 0;
  }
  return Serve(*config, flags);
}
