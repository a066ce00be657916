// tests/testing/fake_cgroup.h: a cgroup file system root in a temporary directory, with
// the limit files a test writes (cpu.max, memory.max, their v1 counterparts).
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace ringdns::testing {

class FakeCgroup {
 public:
  FakeCgroup() {
    char pattern[] = "/tmp/ringdns-cgroup.XXXXXX";
    root_ = ::mkdtemp(pattern);
  }
  ~FakeCgroup() { std::filesystem::remove_all(root_); }
  FakeCgroup(const FakeCgroup&) = delete;
  FakeCgroup& operator=(const FakeCgroup&) = delete;

  void Write(const std::string& file, const std::string& text) {
    std::filesystem::create_directories(std::filesystem::path(root_ + "/" + file).parent_path());
    std::ofstream(root_ + "/" + file) << text;
  }
  const std::string& root() const { return root_; }

 private:
  std::string root_;
};

}  // namespace ringdns::testing
