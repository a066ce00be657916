// One query through a running shard, end to end over loopback: this thread is both the
// client and the upstream, so each iteration is exactly one query (client -> ringdns ->
// upstream -> ringdns -> client for a forward; client -> ringdns -> client for a cache
// hit). Reports the round trip (real time per op), the CPU the rest of the process (the
// shard) spent per query, and the heap allocations it made per query (0: the packet
// path allocates nothing). One query at a time, so every query pays the shard's wake-up:
// this is the latency view; the dnsperf harness (bench/harness/peers.sh) has the
// throughput view.
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <string>

#include "integration/forwarder.h"
#include "testing/alloc_counter.h"
#include "testing/message_builder.h"
#include "testing/udp.h"

namespace ringdns::bench {
namespace {

std::int64_t CpuNs(clockid_t clock) {
  timespec ts{};
  ::clock_gettime(clock, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

// A socket on 127.0.0.1 connected to `port` there.
int ConnectedSocket(std::uint16_t port) {
  const int fd = testing::BoundSocket(0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  to.sin_port = htons(port);
  ::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof(to));
  return fd;
}

// A client socket and, for forwards, the upstream's; stack buffers only, so every
// allocation counted off this thread is ringdns's.
class OneQueryAtATime {
 public:
  explicit OneQueryAtATime(bool cache)
      : upstream_(testing::BoundSocket(0)),
        forwarder_(".:{PORT} {\n bind 127.0.0.1\n" + std::string(cache ? " cache 30\n" : "") +
                   " forward . 127.0.0.1:" + std::to_string(testing::PortOf(upstream_)) + "\n}\n"),
        client_(ConnectedSocket(forwarder_.port())),
        query_(testing::MessageBuilder(0x1234, 0x0100).Question("www.example.", 1).bytes()) {}
  ~OneQueryAtATime() {
    ::close(client_);
    ::close(upstream_);
  }

  std::uint64_t upstream_queries() const { return upstream_queries_; }

  // False when an answer did not come within a second.
  bool Exchange() {
    if (::send(client_, query_.data(), query_.size(), 0) < 0) return false;
    pollfd both[2] = {{client_, POLLIN, 0}, {upstream_, POLLIN, 0}};
    while (::poll(both, 2, 1000) > 0) {
      if (both[1].revents & POLLIN) Reflect();
      if (both[0].revents & POLLIN) return ::recv(client_, buffer_, sizeof(buffer_), 0) > 0;
    }
    return false;
  }

 private:
  void Reflect() {
    sockaddr_storage from{};
    socklen_t from_len = sizeof(from);
    const ssize_t n = ::recvfrom(upstream_, buffer_, sizeof(buffer_), 0,
                                 reinterpret_cast<sockaddr*>(&from), &from_len);
    if (n < 12 || static_cast<std::size_t>(n) + sizeof(kRecord) > sizeof(buffer_)) return;
    ++upstream_queries_;
    // The question answered with one A record, TTL 60 (cacheable).
    buffer_[2] |= 0x84;  // QR, AA
    buffer_[7] = 1;      // ANCOUNT
    std::memcpy(buffer_ + n, kRecord, sizeof(kRecord));
    ::sendto(upstream_, buffer_, static_cast<std::size_t>(n) + sizeof(kRecord), 0,
             reinterpret_cast<sockaddr*>(&from), from_len);
  }

  static constexpr std::uint8_t kRecord[] = {0xc0, 0x0c, 0, 1, 0,   1, 0, 0,
                                             0,    60,   0, 4, 192, 0, 2, 1};
  int upstream_;
  testing::Forwarder forwarder_;
  int client_;
  testing::Bytes query_;
  std::uint8_t buffer_[4096];
  std::uint64_t upstream_queries_ = 0;
};

void OneQuery(benchmark::State& state, bool cache) {
  OneQueryAtATime bench(cache);
  for (int i = 0; i < 1000; ++i) {  // warm-up: connections, caches, the answer cached
    if (!bench.Exchange()) return state.SkipWithError("no answer during warm-up");
  }
  // Allocations anywhere but on this thread, over a probe run outside the timed loop.
  constexpr int kProbe = 10000;
  const std::uint64_t process_before = testing::ProcessAllocationCount();
  const std::uint64_t thread_before = testing::ThreadAllocationCount();
  for (int i = 0; i < kProbe; ++i) bench.Exchange();
  const std::uint64_t others = (testing::ProcessAllocationCount() - process_before) -
                               (testing::ThreadAllocationCount() - thread_before);
  state.counters["allocs_per_op"] = static_cast<double>(others) / kProbe;

  const std::uint64_t upstream_before = bench.upstream_queries();
  const std::int64_t process_cpu = CpuNs(CLOCK_PROCESS_CPUTIME_ID);
  const std::int64_t thread_cpu = CpuNs(CLOCK_THREAD_CPUTIME_ID);
  for (auto _ : state) {
    if (!bench.Exchange()) return state.SkipWithError("no answer within a second");
  }
  const std::int64_t shard_cpu = (CpuNs(CLOCK_PROCESS_CPUTIME_ID) - process_cpu) -
                                 (CpuNs(CLOCK_THREAD_CPUTIME_ID) - thread_cpu);
  state.counters["shard_cpu_ns_per_op"] =
      static_cast<double>(shard_cpu) / static_cast<double>(state.iterations());
  // 1 for a forward, 0 for a cache hit: what the iteration measured.
  state.counters["upstream_per_op"] =
      static_cast<double>(bench.upstream_queries() - upstream_before) /
      static_cast<double>(state.iterations());
  state.SetItemsProcessed(state.iterations());
}

void BM_UdpForwardThroughShard(benchmark::State& state) { OneQuery(state, false); }
void BM_UdpCacheHitThroughShard(benchmark::State& state) { OneQuery(state, true); }
BENCHMARK(BM_UdpForwardThroughShard)->UseRealTime()->MinTime(1.0);
BENCHMARK(BM_UdpCacheHitThroughShard)->UseRealTime()->MinTime(1.0);

}  // namespace
}  // namespace ringdns::bench

BENCHMARK_MAIN();
