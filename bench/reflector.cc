// reflector: the floor for any UDP DNS responder through this kernel. Receives datagrams
// in batches (recvmmsg), flips QR, sends them back (sendmmsg), parses nothing. The
// benchmark harness measures its CPU per answer next to the forwarders'.
//
//   reflector PORT [ADDRESS]     (default address 127.0.0.1)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

constexpr std::size_t kBatch = 64;
constexpr int kMaxDatagram = 4096;
volatile sig_atomic_t stop = 0;

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: reflector PORT [ADDRESS]\n");
    return 2;
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(std::atoi(argv[1])));
  if (::inet_pton(AF_INET, argc > 2 ? argv[2] : "127.0.0.1", &address.sin_addr) != 1) {
    std::fprintf(stderr, "reflector: bad address\n");
    return 2;
  }
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    std::perror("reflector: bind");
    return 1;
  }
  struct sigaction action {};
  action.sa_handler = [](int) { stop = 1; };
  ::sigaction(SIGTERM, &action, nullptr);
  ::sigaction(SIGINT, &action, nullptr);

  static std::array<std::array<char, kMaxDatagram>, kBatch> buffers;
  std::array<iovec, kBatch> iov{};
  std::array<sockaddr_in, kBatch> peers{};
  std::array<mmsghdr, kBatch> messages{};
  while (!stop) {
    for (std::size_t i = 0; i < kBatch; ++i) {
      iov[i] = {buffers[i].data(), kMaxDatagram};
      messages[i].msg_hdr = {};
      messages[i].msg_hdr.msg_name = &peers[i];
      messages[i].msg_hdr.msg_namelen = sizeof(sockaddr_in);
      messages[i].msg_hdr.msg_iov = &iov[i];
      messages[i].msg_hdr.msg_iovlen = 1;
    }
    const int received = ::recvmmsg(fd, messages.data(), kBatch, MSG_WAITFORONE, nullptr);
    if (received <= 0) continue;
    const auto n = static_cast<std::size_t>(received);
    for (std::size_t i = 0; i < n; ++i) {
      iov[i].iov_len = messages[i].msg_len;
      if (messages[i].msg_len >= 3) buffers[i][2] = static_cast<char>(buffers[i][2] | 0x80);
    }
    ::sendmmsg(fd, messages.data(), static_cast<unsigned>(n), 0);
  }
  ::close(fd);
  return 0;
}
