// ringdns: the daemon's entry point.
#include <cstdio>
#include <cstring>

#include "core/version.h"

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const char* arg = argv[i];
    if (arg[0] == '-' && arg[1] == '-') ++arg;  // -flag and --flag, like CoreDNS
    if (std::strcmp(arg, "-version") == 0) {
      std::printf("ringdns-%.*s\n", static_cast<int>(ringdns::core::Version().size()),
                  ringdns::core::Version().data());
      return 0;
    }
  }
  std::fprintf(stderr, "ringdns: the forwarder is not implemented yet; try -version\n");
  return 2;
}
