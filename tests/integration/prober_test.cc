// The health prober over real loopback sockets: probes of different upstreams run side by
// side, so a dead upstream stretches no other upstream's interval; a probe's answer is
// taken only when its ID, source and question all match; probe IDs are random; stopping
// the prober does not wait for probes in flight.
#include "core/prober.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/config/loader.h"
#include "core/health.h"
#include "core/routes.h"
#include "testing/alloc_counter.h"
#include "testing/tcp.h"
#include "testing/udp.h"
#include "wire/bytes.h"
#include "wire/message.h"

namespace ringdns::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// A prober on the routes of `corefile`, with its own health table; nothing else runs, so
// every query a fake upstream sees is a probe.
class ProberFixture {
 public:
  explicit ProberFixture(const std::string& corefile) {
    absl::StatusOr<core::config::Config> config =
        core::config::ParseCorefile(corefile, "test/Corefile");
    if (!config.ok()) throw std::runtime_error(std::string(config.status().message()));
    absl::StatusOr<core::RouteTable> routes = core::BuildRoutes(*config);
    if (!routes.ok()) throw std::runtime_error(std::string(routes.status().message()));
    routes_ = std::move(*routes);
    health_ = std::make_unique<core::HealthTable>(routes_.upstream_count);
  }

  core::HealthTable& health() { return *health_; }
  void MarkDown(std::uint32_t upstream) { health_->Restore(upstream, 3, true); }
  void Start() { prober_ = std::make_unique<core::Prober>(routes_, *health_); }
  void Stop() { prober_.reset(); }
  const core::Prober& prober() const { return *prober_; }
  ~ProberFixture() { Stop(); }

 private:
  core::RouteTable routes_;
  std::unique_ptr<core::HealthTable> health_;
  std::unique_ptr<core::Prober> prober_;
};

std::string At(std::uint16_t port) { return "127.0.0.1:" + std::to_string(port); }

// A forward of `upstreams` with `options` inside its block.
std::string Forward(const std::string& zone, const std::vector<std::uint16_t>& upstreams,
                    const std::string& options) {
  std::string out = " forward " + zone;
  for (const std::uint16_t port : upstreams) out += " " + At(port);
  return out + " {\n" + options + " }\n";
}

std::string Corefile(const std::string& forwards) {
  return ".:53 {\n bind 127.0.0.1\n" + forwards + "}\n";
}

// Polls `done` every millisecond until it holds or `limit` passes.
template <typename Fn>
bool WaitUntil(Fn done, Clock::duration limit) {
  const auto until = Clock::now() + limit;
  while (!done()) {
    if (Clock::now() > until) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

TEST(Prober, AnUpstreamIsProbedAtItsOwnIntervalWhileOthersTimeOut) {
  // Three dead upstreams whose probes each wait out a 1 s timeout, and one (also silent)
  // whose probes time out after 100 ms and repeat every 200 ms. Probed one after another,
  // the fourth would be asked once per pass of 3 s; side by side, every 200 ms.
  FakeUpstream dead1(Behaviour::kDrop), dead2(Behaviour::kDrop), dead3(Behaviour::kDrop);
  FakeUpstream quick(Behaviour::kDrop);
  ProberFixture fx(
      Corefile(Forward("dead.example.", {dead1.port(), dead2.port(), dead3.port()},
                       "  read_timeout 1s\n  health_check 100ms\n") +
               Forward(".", {quick.port()}, "  read_timeout 100ms\n  health_check 200ms\n")));
  for (std::uint32_t u = 0; u < 4; ++u) fx.MarkDown(u);
  fx.Start();
  std::this_thread::sleep_for(3s);  // room for 15 probes of `quick`
  const int quick_probes = quick.queries();
  const int dead_probes = dead1.queries();
  fx.Stop();
  EXPECT_GE(quick_probes, 5) << "the 200 ms interval was stretched by the dead upstreams";
  EXPECT_GE(dead_probes, 2) << "each dead upstream is probed once per second, not once per pass";
  EXPECT_TRUE(fx.health().down(3));
}

TEST(Prober, AFlappingUpstreamComesBackPromptlyWhileOthersTimeOut) {
  // `live` answers probes (and, in this story, fails client queries, which mark it down
  // again each time); three dead upstreams time out meanwhile. Each time it is marked
  // down a probe brings it back without waiting behind the dead ones' timeouts.
  FakeUpstream dead1(Behaviour::kDrop), dead2(Behaviour::kDrop), dead3(Behaviour::kDrop);
  FakeUpstream live(Behaviour::kAnswer);
  ProberFixture fx(Corefile(Forward(".", {dead1.port(), dead2.port(), dead3.port(), live.port()},
                                    "  read_timeout 1s\n  health_check 100ms\n")));
  for (std::uint32_t u = 0; u < 4; ++u) fx.MarkDown(u);
  fx.Start();
  int recovered = 0;
  const auto until = Clock::now() + 3s;  // a marking wakes the prober at once
  while (Clock::now() < until) {
    if (!fx.health().down(3)) {
      ++recovered;
      fx.MarkDown(3);
    }
    std::this_thread::sleep_for(2ms);
  }
  fx.Stop();
  EXPECT_GE(recovered, 5) << "live was probed " << live.queries() << " times";
  EXPECT_TRUE(fx.health().down(0));
}

// The default answer with its question's type changed.
Bytes WrongType(const Bytes& query) {
  Bytes out = EchoAnswer(query);
  const wire::Result<wire::QueryView> q = wire::ParseQuestion(query);
  if (q) wire::StoreU16(out.data() + q->question_end - 4, static_cast<std::uint16_t>(q->qtype + 1));
  return out;
}

// The default answer with its question's class changed.
Bytes WrongClass(const Bytes& query) {
  Bytes out = EchoAnswer(query);
  const wire::Result<wire::QueryView> q = wire::ParseQuestion(query);
  if (q) wire::StoreU16(out.data() + q->question_end - 2, 3);  // CH
  return out;
}

TEST(Prober, AForgedAnswerDoesNotBringAnUpstreamBack) {
  struct Case {
    const char* what;
    Behaviour behaviour;
    FakeUpstream::AnswerFn answer;
  };
  const std::vector<Case> cases = {
      {"right ID, another name", Behaviour::kOtherQuestion, nullptr},
      {"right ID, another type", Behaviour::kAnswer, WrongType},
      {"right ID, another class", Behaviour::kAnswer, WrongClass},
      {"wrong ID", Behaviour::kWrongId, nullptr},
      {"from another port", Behaviour::kWrongPort, nullptr},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    FakeUpstream forger(c.behaviour, c.answer);
    // The probe asks "example.org. NS", so kOtherQuestion's changed letter is in a name.
    ProberFixture fx(Corefile(Forward(
        ".", {forger.port()}, "  read_timeout 100ms\n  health_check 100ms domain example.org\n")));
    fx.MarkDown(0);
    fx.Start();
    ASSERT_TRUE(WaitUntil([&] { return forger.queries() >= 3 || !fx.health().down(0); }, 10s));
    // The answer to the last probe may still be on its way: give it a moment.
    std::this_thread::sleep_for(50ms);
    EXPECT_TRUE(fx.health().down(0)) << "a forged answer marked the upstream up";
    // The same upstream answering correctly is marked up: the probes did reach it.
    forger.set_behaviour(Behaviour::kAnswer);
    if (c.answer == nullptr) {
      EXPECT_TRUE(WaitUntil([&] { return !fx.health().down(0); }, 10s));
    }
  }
}

TEST(Prober, ProbeIdsAreNotSequential) {
  FakeUpstream dead(Behaviour::kDrop);
  ProberFixture fx(
      Corefile(Forward(".", {dead.port()}, "  read_timeout 50ms\n  health_check 50ms\n")));
  fx.MarkDown(0);
  fx.Start();
  ASSERT_TRUE(WaitUntil([&] { return dead.queries() >= 20; }, 20s));
  fx.Stop();
  const std::vector<std::uint16_t> ids = dead.ids();
  ASSERT_GE(ids.size(), 20u);
  std::set<int> steps;
  for (std::size_t i = 1; i < ids.size(); ++i) {
    steps.insert(static_cast<std::uint16_t>(ids[i] - ids[i - 1]));
  }
  // A counter, whatever its start or stride, makes one step; random IDs almost never do.
  EXPECT_GT(steps.size(), 1u) << "IDs step by " << *steps.begin();
  EXPECT_FALSE(steps.size() == 1 && *steps.begin() == 1);
}

TEST(Prober, StoppingDoesNotWaitForProbesInFlight) {
  FakeUpstream d1(Behaviour::kDrop), d2(Behaviour::kDrop), d3(Behaviour::kDrop),
      d4(Behaviour::kDrop);
  ProberFixture fx(Corefile(Forward(".", {d1.port(), d2.port(), d3.port(), d4.port()},
                                    "  read_timeout 30s\n  health_check 100ms\n")));
  for (std::uint32_t u = 0; u < 4; ++u) fx.MarkDown(u);
  fx.Start();
  // Every upstream has a probe out (or had one: each waits up to 1 s for its answer).
  ASSERT_TRUE(WaitUntil(
      [&] {
        return d1.queries() >= 1 && d2.queries() >= 1 && d3.queries() >= 1 && d4.queries() >= 1;
      },
      20s));
  const auto start = Clock::now();
  fx.Stop();
  const auto took = Clock::now() - start;
  // It should take microseconds; a probe timeout is 1 s.
  EXPECT_LT(took, 500ms) << std::chrono::duration<double, std::milli>(took).count() << " ms";
}

TEST(Prober, ProbingADeadUpstreamForHoursAllocatesNothingAfterTheFirstProbes) {
  // Every probe used to allocate its ~100 KiB of buffers: harmless with mimalloc, but a
  // dead upstream probed every 500 ms for a day churns the heap for nothing (and under
  // ASan's quarantine it grew RSS without bound). Nothing listens on `closed`, so each
  // probe fails at once with the kernel's port-unreachable and the next follows a tick
  // later; a socket nobody reads stands for a silent upstream, whose probes time out.
  // Neither is a thread that allocates as it serves.
  const std::uint16_t closed = FreeUdpPort();
  const int silent = BoundSocket(0);
  ProberFixture fx(Corefile(
      Forward(".", {closed, PortOf(silent)}, "  read_timeout 60ms\n  health_check 50ms\n")));
  fx.MarkDown(0);
  fx.MarkDown(1);
  fx.Start();
  const auto failed = [&](std::uint64_t n) {
    return fx.prober().failures(0) >= n && fx.prober().failures(1) >= n;
  };
  ASSERT_TRUE(WaitUntil([&] { return failed(3); }, 60s));  // buffers for both allocated
  const std::uint64_t before = ProcessAllocationCount();
  const std::uint64_t failures_before = fx.prober().failures(0) + fx.prober().failures(1);
  ASSERT_TRUE(WaitUntil([&] { return failed(23); }, 120s));
  const std::uint64_t allocations = ProcessAllocationCount() - before;
  const std::uint64_t probes = fx.prober().failures(0) + fx.prober().failures(1) - failures_before;
  fx.Stop();
  ::close(silent);
  EXPECT_EQ(allocations, 0u) << "over " << probes << " probes";
}

// A DNS-over-TCP upstream that answers each framed query with EchoAnswer, or with the
// question's first letter changed while `forge` is set.
class TcpUpstream {
 public:
  TcpUpstream() : listener_(ListenOnLoopback(port_)) {
    thread_ = std::thread([this] { Serve(); });
  }
  ~TcpUpstream() {
    stop_ = true;
    thread_.join();
    ::close(listener_);
  }
  std::uint16_t port() const { return port_; }
  int queries() const { return queries_; }
  void set_forge(bool forge) { forge_ = forge; }

 private:
  void Serve() {
    while (!stop_) {
      pollfd p{listener_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      const int conn = ::accept(listener_, nullptr, nullptr);
      if (conn < 0) continue;
      Bytes in;
      std::uint8_t buf[1024];
      const auto until = Clock::now() + 2s;
      while (Clock::now() < until && (in.size() < 2 || in.size() < 2u + wire::LoadU16(in.data()))) {
        pollfd c{conn, POLLIN, 0};
        if (::poll(&c, 1, 20) <= 0) continue;
        const ssize_t n = ::recv(conn, buf, sizeof(buf), 0);
        if (n <= 0) break;
        in.insert(in.end(), buf, buf + n);
      }
      if (in.size() >= 2 && in.size() >= 2u + wire::LoadU16(in.data())) {
        ++queries_;
        Bytes answer = EchoAnswer(Bytes(in.begin() + 2, in.end()));
        if (forge_ && answer.size() > 13) answer[13] = answer[13] == 'z' ? 'y' : 'z';
        const Bytes framed = Framed(answer);
        (void)::send(conn, framed.data(), framed.size(), MSG_NOSIGNAL);
      }
      ::close(conn);
    }
  }

  std::uint16_t port_ = 0;  // before listener_, whose initialiser sets it
  int listener_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> forge_{true};
  std::atomic<int> queries_{0};
  std::thread thread_;
};

TEST(Prober, ForceTcpUpstreamsAreProbedOverTcpAndTheQuestionIsChecked) {
  TcpUpstream upstream;
  FakeUpstream dead(Behaviour::kDrop);
  ProberFixture fx(Corefile(Forward(".", {upstream.port(), dead.port()},
                                    "  force_tcp\n  read_timeout 1s\n"
                                    "  health_check 100ms domain example.org\n")));
  fx.MarkDown(0);
  fx.MarkDown(1);  // nothing listens on its TCP port: refused at once, every interval
  fx.Start();
  ASSERT_TRUE(WaitUntil([&] { return upstream.queries() >= 3 || !fx.health().down(0); }, 10s));
  std::this_thread::sleep_for(50ms);
  EXPECT_TRUE(fx.health().down(0)) << "an answer to another question marked it up";
  upstream.set_forge(false);
  EXPECT_TRUE(WaitUntil([&] { return !fx.health().down(0); }, 10s));
  EXPECT_TRUE(fx.health().down(1));
}

}  // namespace
}  // namespace ringdns::testing
