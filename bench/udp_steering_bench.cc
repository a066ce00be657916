// What the question-steering program (core/udp_steering.h) costs the kernel per
// datagram: batches of queries sent over loopback into a group of two SO_REUSEPORT
// sockets and read back, with and without the program attached. Loopback delivers in
// the sender's system call, so this thread's CPU time holds the whole path; the
// difference between the two variants is the program's cost (it is interpreted or
// JIT-compiled, depending on net.core.bpf_jit_enable). Args: program (0/1), name (below).
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <string>

#include "core/udp_steering.h"
#include "testing/message_builder.h"
#include "testing/udp.h"

namespace ringdns::bench {
namespace {

constexpr unsigned kBatch = 64;

// The query names: a short one, the tutorial's SRV name (57 octets), and a search-path
// expansion of it (83 octets: the program's worst case, all 64 hashed octets).
std::string Name(std::int64_t kind) {
  switch (kind) {
    case 0: return "www.example.";
    case 1: return "_couchbase._tcp.cb-example-srv.remote.svc.cluster.local.";
    default:
      return "_couchbase._tcp.cb-example-srv.remote.svc.cluster.local.remote.svc.cluster.local.";
  }
}

void BM_DeliverToGroup(benchmark::State& state) {
  std::array<int, 2> group{};
  std::uint16_t port = 0;
  for (int& fd : group) {
    fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
    const int buffer = 4 << 20;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof(buffer));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      state.SkipWithError("bind");
      return;
    }
    port = testing::PortOf(fd);
  }
  if (state.range(0) == 1) {
    for (int fd : group) {
      if (!core::SteerByQuestion(fd, 2, core::SteeringKey::Random()).ok()) {
        state.SkipWithError("SO_ATTACH_REUSEPORT_CBPF refused");
        return;
      }
    }
  }
  const int client = testing::BoundSocket(0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::connect(client, reinterpret_cast<sockaddr*>(&to), sizeof(to));

  testing::Bytes query =
      testing::MessageBuilder(1, 0x0100).Question(Name(state.range(1)), 33).bytes();
  std::array<iovec, kBatch> out_iov{};
  std::array<mmsghdr, kBatch> out{};
  std::array<std::array<std::uint8_t, 512>, kBatch> in_buf{};
  std::array<iovec, kBatch> in_iov{};
  std::array<mmsghdr, kBatch> in{};
  for (std::size_t i = 0; i < kBatch; ++i) {
    out_iov[i] = {query.data(), query.size()};
    out[i].msg_hdr.msg_iov = &out_iov[i];
    out[i].msg_hdr.msg_iovlen = 1;
    in_iov[i] = {in_buf[i].data(), in_buf[i].size()};
    in[i].msg_hdr.msg_iov = &in_iov[i];
    in[i].msg_hdr.msg_iovlen = 1;
  }
  std::int64_t delivered = 0;
  for (auto _ : state) {
    if (::sendmmsg(client, out.data(), kBatch, 0) != static_cast<int>(kBatch)) {
      state.SkipWithError("sendmmsg");
      break;
    }
    int got = 0;
    while (got < static_cast<int>(kBatch)) {
      for (int fd : group) {
        const int n = ::recvmmsg(fd, in.data(), kBatch, MSG_DONTWAIT, nullptr);
        if (n > 0) got += n;
      }
    }
    delivered += got;
  }
  state.SetItemsProcessed(delivered);
  ::close(client);
  for (int fd : group) ::close(fd);
}
BENCHMARK(BM_DeliverToGroup)
    ->ArgNames({"program", "name"})
    ->ArgsProduct({{0, 1}, {0, 1, 2}})
    ->MeasureProcessCPUTime()
    ->UseRealTime();

// The C++ twin of the program: the hash alone, for scale.
void BM_SteeringIndex(benchmark::State& state) {
  const testing::Bytes query =
      testing::MessageBuilder(1, 0x0100).Question(Name(state.range(0)), 33).bytes();
  const core::SteeringKey key = core::SteeringKey::Random();
  for (auto _ : state) benchmark::DoNotOptimize(core::QuestionSteeringIndex(query, 2, key));
}
BENCHMARK(BM_SteeringIndex)->ArgName("name")->Arg(0)->Arg(1)->Arg(2);

}  // namespace
}  // namespace ringdns::bench

BENCHMARK_MAIN();
