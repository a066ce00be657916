#include "testing/nsd.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "testing/message_builder.h"
#include "testing/peer_process.h"
#include "testing/udp.h"

extern char** environ;

namespace ringdns::testing {

std::string ZonesDir() { return RINGDNS_ZONES_DIR; }

Nsd::Nsd(const std::vector<std::pair<std::string, std::string>>& zones,
         const std::string& server_options) {
  const char* binary = "/usr/sbin/nsd";
  if (::access(binary, X_OK) != 0) {
    error_ = "nsd is not installed";
    return;
  }
  char pattern[] = "/tmp/ringdns-nsd-XXXXXX";
  if (::mkdtemp(pattern) == nullptr) {
    error_ = "mkdtemp failed";
    return;
  }
  dir_ = pattern;
  port_ = FreeUdpPort();
  std::ofstream conf(dir_ + "/nsd.conf");
  conf << "server:\n  ip-address: 127.0.0.1@" << port_ << "\n  zonesdir: \"" << dir_
       << "\"\n  pidfile: \"\"\n  database: \"\"\n  zonelistfile: \"" << dir_
       << "/zone.list\"\n  xfrdfile: \"" << dir_ << "/xfrd.state\"\n  username: \"\"\n"
       << "  logfile: \"" << dir_
       << "/nsd.log\"\n  server-count: 1\n  verbosity: 0\n"
       // Debian's nsd limits each source to 200 answers/s by default; tests send more.
       << "  rrl-ratelimit: 0\n  rrl-whitelist-ratelimit: 0\n"
       << server_options << "remote-control:\n  control-enable: no\n";
  for (const auto& [name, file] : zones) {
    conf << "zone:\n  name: \"" << name << "\"\n  zonefile: \"" << file << "\"\n";
  }
  conf.close();
  const std::string conf_path = dir_ + "/nsd.conf";
  char* argv[] = {const_cast<char*>(binary), const_cast<char*>("-d"), const_cast<char*>("-c"),
                  const_cast<char*>(conf_path.c_str()), nullptr};
  // nsd dies with the test process, however it ends, and never holds the test's
  // output pipe open (ctest would wait on it).
  pid_ = SpawnPeer(binary, argv);
  if (pid_ < 0) {
    error_ = "cannot start nsd";
    return;
  }
  // Ready when it answers; give up after 5 s.
  UdpClient probe;
  const Bytes query = MessageBuilder(1, 0).Question(zones.front().first, 6).bytes();
  for (int i = 0; i < 50; ++i) {
    probe.SendTo(port_, query);
    if (probe.Receive(std::chrono::milliseconds(100)).has_value()) return;
  }
  error_ = "nsd did not answer; see " + dir_ + "/nsd.log";
  StopPeer(pid_);
  pid_ = -1;
}

Nsd::~Nsd() {
  if (pid_ > 0) {
    StopPeer(pid_);
  }
  if (!dir_.empty()) std::filesystem::remove_all(dir_);
}

}  // namespace ringdns::testing
