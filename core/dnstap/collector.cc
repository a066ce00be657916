#include "core/dnstap/collector.h"

#include <arpa/inet.h>
#include <fstrm.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <chrono>
#include <cstddef>
#include <cstring>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "core/dnstap/socket_rdwr.h"

namespace ringdns::core::dnstap {
namespace {

constexpr std::string_view kContentType = "protobuf:dnstap.Dnstap";
// fstrm's input queue, in frames (its maximum; CoreDNS buffers 10 000 messages): 0.4 s
// of 10 000 queries a second with four messages each; past it, frames are dropped and
// counted. Frames are a few hundred octets (with `full`, up to a whole TCP answer), so
// it holds a few MiB while a collector is slow.
constexpr unsigned kInputQueueFrames = FSTRM_IOTHR_INPUT_QUEUE_SIZE_MAX;
constexpr unsigned kReopenSeconds = 1;
// fstrm's thread writes up to kOutputFrames at a time (its maximum, IOV_MAX). It wakes
// from its sleep when a submit leaves exactly kNotifyFreeSlots slots free (free, not
// taken: its queue's `space`), so once 4 096 frames wait (about 0.1 s at 10 000 queries
// a second), or after its flush timeout (a second): fewer, larger writes.
constexpr unsigned kOutputFrames = 1024;
constexpr unsigned kNotifyFreeSlots = FSTRM_IOTHR_INPUT_QUEUE_SIZE_MAX - 1 - 4 * kOutputFrames;
// A connect, a read of the handshake or a write that takes longer fails (and fstrm
// reconnects): a collector that stops reading never holds a reload or the shutdown.
constexpr std::chrono::milliseconds kIoTimeout{2000};

// fstrm's option objects, each destroyed by its own function.
template <typename T, void (*Destroy)(T**)>
struct Owned {
  T* p;
  ~Owned() { Destroy(&p); }
};

}  // namespace

std::string CollectorAddress::Key() const {
  if (!unix_path.empty()) return absl::StrCat("unix://", unix_path);
  const bool v6 = tcp_host.find(':') != std::string::npos;
  return absl::StrCat("tcp://", v6 ? "[" : "", tcp_host, v6 ? "]" : "", ":", tcp_port);
}

absl::StatusOr<std::unique_ptr<Collector>> Collector::Open(const CollectorAddress& address) {
  Owned<fstrm_writer_options, fstrm_writer_options_destroy> writer_options{
      fstrm_writer_options_init()};
  fstrm_writer_options_add_content_type(writer_options.p, kContentType.data(), kContentType.size());
  CollectorSocket to;
  to.timeout = kIoTimeout;
  if (!address.unix_path.empty()) {
    auto& un = reinterpret_cast<sockaddr_un&>(to.address);
    if (address.unix_path.size() >= sizeof(un.sun_path)) {
      return absl::InvalidArgumentError(
          absl::StrCat("dnstap: socket path too long: ", address.unix_path));
    }
    un.sun_family = AF_UNIX;
    std::memcpy(un.sun_path, address.unix_path.data(), address.unix_path.size());
    to.address_len =
        static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address.unix_path.size() + 1);
  } else if (auto& in = reinterpret_cast<sockaddr_in&>(to.address);
             ::inet_pton(AF_INET, address.tcp_host.c_str(), &in.sin_addr) == 1) {
    in.sin_family = AF_INET;
    in.sin_port = htons(address.tcp_port);
    to.address_len = sizeof(sockaddr_in);
  } else if (auto& in6 = reinterpret_cast<sockaddr_in6&>(to.address);
             ::inet_pton(AF_INET6, address.tcp_host.c_str(), &in6.sin6_addr) == 1) {
    in6.sin6_family = AF_INET6;
    in6.sin6_port = htons(address.tcp_port);
    to.address_len = sizeof(sockaddr_in6);
  } else {
    to.host = address.tcp_host;  // a name: resolved at each connect
    to.port = address.tcp_port;
  }
  std::unique_ptr<Collector> collector(new Collector());
  fstrm_rdwr* rdwr = NewSocketRdwr(to, collector->state_);
  fstrm_writer* writer = fstrm_writer_init(writer_options.p, &rdwr);  // takes rdwr
  if (writer == nullptr)
    return absl::InvalidArgumentError(
        absl::StrCat("dnstap: cannot set up a writer to ", address.Key()));
  Owned<fstrm_iothr_options, fstrm_iothr_options_destroy> iothr_options{fstrm_iothr_options_init()};
  // Two configurations' writer threads submit at once while a reload hands over.
  fstrm_iothr_options_set_queue_model(iothr_options.p, FSTRM_IOTHR_QUEUE_MODEL_MPSC);
  fstrm_iothr_options_set_input_queue_size(iothr_options.p, kInputQueueFrames);
  fstrm_iothr_options_set_reopen_interval(iothr_options.p, kReopenSeconds);
  // Few, large writes (up to 64 KiB), and few wake-ups.
  fstrm_iothr_options_set_queue_notify_threshold(iothr_options.p, kNotifyFreeSlots);
  fstrm_iothr_options_set_buffer_hint(iothr_options.p, FSTRM_IOTHR_BUFFER_HINT_MAX);
  fstrm_iothr_options_set_output_queue_size(iothr_options.p, kOutputFrames);
  collector->key_ = address.Key();
  // fstrm_iothr_init takes the writer (and sets `writer` to null) once it has started.
  collector->iothr_ = fstrm_iothr_init(iothr_options.p, &writer);
  if (collector->iothr_ == nullptr) {
    if (writer != nullptr) fstrm_writer_destroy(&writer);
    return absl::ResourceExhaustedError(
        absl::StrCat("dnstap: cannot start the I/O thread for ", address.Key()));
  }
  collector->queue_ = fstrm_iothr_get_input_queue(collector->iothr_);
  return collector;
}

Collector::~Collector() {
  state_->give_up_at_ms.store(MonotonicMs() + kIoTimeout.count(), std::memory_order_relaxed);
  if (iothr_ != nullptr) fstrm_iothr_destroy(&iothr_);
}

bool Collector::Accepts(std::size_t bytes) noexcept {
  if (state_->up.load(std::memory_order_relaxed) &&
      state_->queued_bytes.load(std::memory_order_relaxed) + static_cast<std::int64_t>(bytes) <=
          kMaxQueuedBytes) {
    return true;
  }
  dropped_->fetch_add(1, std::memory_order_relaxed);
  return false;
}

void Collector::FreeFrame(void* payload, void* state) noexcept {
  static_cast<CollectorLink*>(state)->queued_bytes.fetch_sub(
      static_cast<std::int64_t>(Frame::SizeOf(payload)), std::memory_order_relaxed);
  Frame::Free(payload);
}

absl::StatusOr<std::shared_ptr<Collector>> CollectorPool::Get(const CollectorAddress& address) {
  std::lock_guard<std::mutex> lock(mu_);
  Entry& entry = entries_[address.Key()];
  if (std::shared_ptr<Collector> open = entry.open.lock()) return open;
  absl::StatusOr<std::unique_ptr<Collector>> opened = Collector::Open(address);
  if (!opened.ok()) {
    if (entry.dropped->load(std::memory_order_relaxed) == 0)
      entries_.erase(address.Key());  // never served
    return opened.status();
  }
  (*opened)->dropped_ = entry.dropped;
  std::shared_ptr<Collector> shared = std::move(*opened);
  entry.open = shared;
  return shared;
}

std::vector<std::pair<std::string, std::uint64_t>> CollectorPool::Dropped() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::pair<std::string, std::uint64_t>> out;
  for (const auto& [key, entry] : entries_)
    out.emplace_back(key, entry.dropped->load(std::memory_order_relaxed));
  return out;
}

bool Collector::Submit(Frame frame) {
  const auto size = static_cast<std::int64_t>(frame.size());
  state_->queued_bytes.fetch_add(size, std::memory_order_relaxed);
  if (fstrm_iothr_submit(iothr_, queue_, frame.data(), frame.size(), FreeFrame, state_.get()) !=
      fstrm_res_success) {
    state_->queued_bytes.fetch_sub(size, std::memory_order_relaxed);
    dropped_->fetch_add(1, std::memory_order_relaxed);
    return false;  // `frame` frees it
  }
  frame.Release();  // fstrm frees it, through FreeFrame
  return true;
}

}  // namespace ringdns::core::dnstap
