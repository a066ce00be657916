#include "testing/knot.h"

#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>

#include "testing/message_builder.h"
#include "testing/peer_process.h"
#include "testing/udp.h"

namespace ringdns::testing {

Knot::Knot(const std::vector<std::pair<std::string, std::string>>& zones, bool cookies,
           const std::string& extra_config) {
  const char* binary = "/usr/sbin/knotd";
  if (::access(binary, X_OK) != 0) {
    error_ = "knotd is not installed";
    return;
  }
  char pattern[] = "/tmp/ringdns-knot-XXXXXX";
  if (::mkdtemp(pattern) == nullptr) {
    error_ = "mkdtemp failed";
    return;
  }
  dir_ = pattern;
  port_ = FreeUdpPort();
  std::ofstream conf(dir_ + "/knot.conf");
  // Everything knotd writes (pid file, timer and journal databases, the control socket,
  // the log) stays in dir_; relative zone file paths are relative to it too, as nsd's
  // are. Knot's workers default to one per CPU each; one of each is plenty here.
  conf << "server:\n  rundir: \"" << dir_ << "\"\n  pidfile: \"" << dir_
       << "/knot.pid\"\n  listen: 127.0.0.1@" << port_
       << "\n  udp-workers: 1\n  tcp-workers: 1\n  background-workers: 1\n"
       << "log:\n  - target: \"" << dir_ << "/knot.log\"\n    any: info\n"
       << "database:\n  storage: \"" << dir_ << "\"\n";
  // A module is defined before the template that refers to it; extra_config comes right
  // after it, so that indented lines at its start set the module's options.
  if (cookies) conf << "mod-cookies:\n  - id: default\n";
  conf << extra_config
       // zonefile-sync -1: the zone files (the source tree's) are never written back.
       << "template:\n  - id: default\n    storage: \"" << dir_ << "\"\n    zonefile-sync: -1\n";
  if (cookies) conf << "    global-module: mod-cookies/default\n";
  conf << "zone:\n";
  for (const auto& [name, file] : zones) {
    conf << "  - domain: \"" << name << "\"\n    file: \"" << file << "\"\n";
  }
  conf.close();
  const std::string conf_path = dir_ + "/knot.conf";
  const std::string socket_path = dir_ + "/knot.sock";
  char* argv[] = {const_cast<char*>(binary),
                  const_cast<char*>("-c"),
                  const_cast<char*>(conf_path.c_str()),
                  const_cast<char*>("-s"),
                  const_cast<char*>(socket_path.c_str()),
                  nullptr};
  // knotd runs in the foreground without -d. It dies with the test process, however it
  // ends, and never holds the test's output pipe open (ctest would wait on it).
  pid_ = SpawnPeer(binary, argv);
  if (pid_ < 0) {
    error_ = "cannot start knotd";
    return;
  }
  // Ready when every zone's SOA is answered with NOERROR: a zone knotd could not load
  // (or, with async-start, has not loaded yet) is SERVFAIL. No COOKIE option, so
  // mod-cookies lets the probes through. Give up after 5 s.
  UdpClient probe;
  std::size_t ready = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (ready < zones.size() && std::chrono::steady_clock::now() < deadline) {
    const auto id = static_cast<std::uint16_t>(ready + 1);
    probe.SendTo(port_, MessageBuilder(id, 0).Question(zones[ready].first, 6).bytes());
    const std::optional<Bytes> answer = probe.Receive(std::chrono::milliseconds(100));
    if (!answer.has_value() || answer->size() < 12) continue;
    const Bytes& a = *answer;
    if (a[0] != (id >> 8) || a[1] != (id & 0xff) || (a[2] & 0x80) == 0) continue;
    if ((a[3] & 0x0f) == 0) {
      ++ready;
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // SERVFAIL
    }
  }
  if (ready == zones.size()) return;
  error_ = "knotd did not serve every zone; see " + dir_ + "/knot.log";
  StopPeer(pid_);
  pid_ = -1;
}

Knot::~Knot() {
  if (pid_ > 0) {
    StopPeer(pid_);
  }
  if (!dir_.empty()) std::filesystem::remove_all(dir_);
}

}  // namespace ringdns::testing
