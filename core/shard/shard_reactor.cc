#include "core/shard/shard_reactor.h"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "core/net.h"
#include "core/shard/shard_layout.h"
#include "ring/user_data.h"
#include "wire/bytes.h"
#include "wire/message.h"

namespace ringdns::core {
namespace {

using namespace layout;

constexpr long kLoopWaitNs = 4'000'000;  // the timer wheel's tick
// The longest an idle loop sleeps: port rotation's turns, taken together on waking, come
// no later than this. Every port keeps changing while idle (a scan of the host's UDP
// ports, which ICMP's rate limit makes take about 30 s, must not outlast one), so an
// idle shard pays one wake-up a second and the sockets it replaces.
constexpr std::int64_t kIdleWaitMs = 1000;
// Records for `log`: the logger drains every 20 ms, so this holds 400 ms at 20 000
// logged answers per second per shard (1.3 MB).
constexpr std::uint32_t kLogQueueRecords = 8192;

}  // namespace

ShardReactor::ShardReactor(ShardId id, const RouteTable& routes, HealthTable& health,
                           CaseRandomization& cases, LoopProbe& loop, const ShardOptions& options,
                           ShardSuccession succession)
    : id_(id),
      routes_(routes),
      health_(health),
      cases_(cases),
      loop_(loop),
      options_(options),
      succession_(std::move(succession)),
      question_samples_(succession_.steering
                            ? std::make_unique<QuestionSamples>(options.hot_name_sample_every)
                            : nullptr),
      upstream_udp_(ring_, answer_buffers_, counters_,
                    {.receive = kRecvUpstream, .cancel = kCancel}),
      selector_(health, routes.forward_count, id),
      inflight_(options.slots),
      pending_(options.slots),
      coalescing_(options.slots),
      metrics_(routes.blocks.size(), routes.upstream_count) {}

std::vector<ShardSuccession::Listener> ShardReactor::DuplicateListeners() const {
  std::vector<ShardSuccession::Listener> out;
  for (std::size_t i = 0; i < listeners_.size(); ++i) {
    ShardSuccession::Listener& l = out.emplace_back();
    l.address = routes_.listeners[listeners_[i].spec].address;
    l.tcp = ring::UniqueFd(::fcntl(tcp_listeners_[i].fd.get(), F_DUPFD_CLOEXEC, 0));
  }
  return out;
}

ShardReactor::~ShardReactor() {
  for (Stream& stream : streams_) {
    if (stream.fd >= 0) ::close(stream.fd);
  }
}

std::int64_t ShardReactor::NowMs() const noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return std::int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1'000'000;
}

absl::Status ShardReactor::Init() {
  // rewrite's re-encoding room, untouched (so not resident) until an answer needs it.
  if (std::any_of(routes_.blocks.begin(), routes_.blocks.end(),
                  [](const BlockRoute& b) { return b.pipeline.rewrite.has_value(); })) {
    rewrites_.MakeScratch();
  }
  if (const int rc = ring_.Init({.backend = options_.io_backend}); rc < 0) {
    // EPERM with -io io_uring: a seccomp profile (Docker's and containerd's defaults) or
    // the sysctl kernel.io_uring_disabled forbids io_uring; say so rather than the errno.
    return absl::UnavailableError(absl::StrCat(
        "shard ", id_, ": ", options_.io_backend == ring::Backend::kEpoll ? "epoll" : "io_uring",
        " set-up failed: ", std::strerror(-rc),
        rc == -EPERM ? " (io_uring is forbidden here: run with -io auto or -io epoll, or allow "
                       "io_uring_setup, io_uring_enter and io_uring_register in the container's "
                       "seccomp profile and check the sysctl kernel.io_uring_disabled)"
                     : ""));
  }
  if (absl::Status s = query_buffers_.Init(ring_, kQueryGroup,
                                           {.received = options_.query_buffers,
                                            .refresh = options_.refresh_buffers,
                                            .tcp = options_.tcp_query_buffers});
      !s.ok()) {
    return absl::Status(s.code(), absl::StrCat("shard ", id_, ": ", s.message()));
  }
  if (int rc = answer_buffers_.Init(ring_, kAnswerGroup, options_.answer_buffers, kAnswerBufferSize,
                                    kFirstProvidedBuffers);
      rc < 0) {
    return absl::UnavailableError(
        absl::StrCat("shard ", id_, ": provided buffer ring: ", std::strerror(-rc)));
  }
  query_sends_.resize(query_buffers_.count());
  if (options_.big_buffers > BigBuffers::kNone) {
    return absl::InvalidArgumentError(
        absl::StrCat("shard ", id_, ": too many big buffers (", options_.big_buffers, ")"));
  }
  big_buffers_.Init(static_cast<std::uint16_t>(options_.big_buffers));
  big_sends_.resize(options_.big_buffers);
  answer_sends_.resize(options_.answer_buffers);
  rtt_.assign(routes_.upstream_count, RttEstimator{});
  if (options_.upstream_cookies) cookies_.emplace(routes_.upstream_count, random_);
  concurrency_.Build(routes_, options_.shards);
  timers_.emplace(options_.slots, NowMs());
  // One cache per shard, its pools as large as the largest block asks for. A successor
  // waits for its predecessor's (serving uncached meanwhile, for a loop turn or two).
  std::uint32_t cache_capacity[2];
  Shard::CacheCapacities(options_, routes_, cache_capacity);
  cache_.Start(cache_capacity, std::move(succession_.cache));
  stream_in_ = std::move(succession_.streams);
  taps_.Init();
  // `log` and `errors`: one queue for the logger thread, if any block has either.
  for (const BlockRoute& block : routes_.blocks) {
    if ((block.logs_answers() || block.logs_errors()) && !log_queue_) {
      log_queue_ = std::make_unique<LogQueue>(kLogQueueRecords);
    }
  }

  for (std::uint32_t i = 0; i < routes_.listeners.size(); ++i) {
    const ListenerSpec& spec = routes_.listeners[i];
    if (spec.tls != nullptr) {
      // DNS over TLS is TCP only: no UDP socket (the slot keeps TCP listener indexes equal).
      Socket& s = listeners_.emplace_back();
      s.family = spec.address.family();
      s.spec = i;
      continue;
    }
    absl::StatusOr<ring::UniqueFd> fd = ListenerSocket(spec.address, /*tcp=*/false);
    if (!fd.ok() && spec.optional) continue;  // no IPv6 on this host
    if (!fd.ok()) return fd.status();
    Socket& s = listeners_.emplace_back();
    s.fd = std::move(*fd);
    s.family = spec.address.family();
    s.spec = i;
  }
  if (listeners_.empty()) return absl::UnavailableError("no listener could be opened");
  if (const std::uint32_t families = routes_.upstream_family_count();
      std::uint64_t{families} * options_.upstream_sockets >= kStreamSocketBase) {
    return absl::InvalidArgumentError(absl::StrCat("at most ", (kStreamSocketBase - 1) / families,
                                                   " upstream sockets per address family"));
  }
  if (absl::Status s = upstream_udp_.Open(
          {.families = {routes_.upstream_families[0], routes_.upstream_families[1]},
           .per_family = options_.upstream_sockets,
           .sources = routes_.source_addresses,
           .lifetime_ms = options_.upstream_socket_lifetime_ms,
           .retire_for_ms = kRetireSocketForMs});
      !s.ok()) {
    return s;
  }
  if (absl::Status streams = InitStreams(); !streams.ok()) return streams;
  // The predecessor's sockets this configuration no longer listens on close now; kept,
  // they would hold their addresses with nobody reading.
  succession_.listeners.clear();
  for (std::uint32_t i = 0; i < listeners_.size(); ++i) {
    ArmReceive(kRecvListener, i, listeners_[i], kQueryGroup);
  }
  wake_armed_ = wake_.Arm(ring_, ring::UserData{kWake, 0, 0, 0});
  if (ring_.Submit() < 0) return absl::UnavailableError("io_uring submit failed");
  return absl::OkStatus();
}

absl::StatusOr<ring::UniqueFd> ShardReactor::ListenerSocket(const SockAddr& address, bool tcp) {
  for (ShardSuccession::Listener& l : succession_.listeners) {
    ring::UniqueFd& fd = tcp ? l.tcp : l.udp;
    if (fd.valid() && SameEndpoint(l.address.get(), address.get())) return std::move(fd);
  }
  // UDP sockets come only from the daemon, which binds each group in shard order
  // (core/udp_listener_groups.h).
  if (!tcp)
    return absl::UnavailableError(
        absl::StrCat("no UDP socket was opened for ", address.ToString()));
  return OpenTcpListener(address);
}

void ShardReactor::CancelListen(Op op, std::uint32_t listener) {
  (void)ring_.Cancel(ring::UserData{op, 0, listener, 0}, ring::UserData{kCancel, 0, 0, 0});
}

void ShardReactor::ArmReceive(Op op, std::uint32_t index, Socket& socket, std::uint16_t group) {
  if (!socket.fd.valid()) return;  // a tls:// listener has no UDP socket
  socket.recv_msg = {};
  socket.recv_msg.msg_namelen = kNameLen;
  socket.recv_msg.msg_controllen = kControlLen;
  // When the kernel refuses, retried on the next loop turn.
  socket.armed = ring_.RecvMsgMultishot(socket.fd.get(), socket.recv_msg, group,
                                        ring::UserData{op, 0, index, 0});
}

void ShardReactor::QueueSend(int fd, Op op, std::uint32_t slot, std::uint16_t generation,
                             std::uint16_t bid, SendContext& ctx, std::uint8_t* data,
                             std::size_t len, const sockaddr* to, socklen_t to_len,
                             const ReplySource& from, const OutgoingQuery* pieces) {
  std::memcpy(&ctx.addr, to, to_len);
  ctx.msg = {};
  ctx.msg.msg_name = &ctx.addr;
  ctx.msg.msg_namelen = to_len;
  ctx.msg.msg_iov = ctx.iov;
  if (pieces == nullptr) {
    ctx.iov[0] = {data, len};
    ctx.msg.msg_iovlen = 1;
  } else {
    std::copy_n(pieces->parts, pieces->count, ctx.iov);
    ctx.msg.msg_iovlen = pieces->count;
  }
  if (const std::size_t control = from.WriteControl(ctx.control); control > 0) {
    ctx.msg.msg_control = ctx.control;
    ctx.msg.msg_controllen = control;
  }
  const ring::UserData tag{op, generation, slot, bid};
  ++sends_in_flight_;
  if (!ring_.SendMsg(fd, ctx.msg, tag)) {
    // The kernel refused a submission: complete the send as failed right here.
    io_uring_cqe fake{};
    fake.user_data = tag.Pack();
    fake.res = -EBUSY;
    HandleCompletion(fake);
    return;
  }
  ++udp_sends_queued_;
}

void ShardReactor::GiveBack(Owner owner, std::uint16_t bid) noexcept {
  switch (owner) {
    case kOwnsQuery: return query_buffers_.Release(bid);
    case kOwnsAnswer: return answer_buffers_.Recycle(bid);
    case kOwnsBig: return big_buffers_.GiveBack(bid);
    case kOwnsNothing:
    case kBorrowed: return;
  }
}

void ShardReactor::HandleCompletion(const io_uring_cqe& cqe) {
  const ring::UserData ud = ring::UserData::Unpack(cqe.user_data);
  switch (ud.op) {
    case kRecvListener:
    case kRecvUpstream: {
      const bool listener = ud.op == kRecvListener;
      if ((cqe.flags & IORING_CQE_F_MORE) == 0) {  // re-armed by Run
        if (listener) {
          listeners_[ud.slot].armed = false;
        } else {
          upstream_udp_.ReceiveEnded(ud.slot);
        }
      }
      if (cqe.res < 0) {
        if (cqe.res == -ENOBUFS) {  // back-pressure (re-armed later), or a ring still growing
          ++counters_.enobufs;
          (listener ? query_buffers_.provided() : answer_buffers_).Starved();
        }
        return;
      }
      if ((cqe.flags & IORING_CQE_F_BUFFER) == 0) return;
      const auto bid = static_cast<std::uint16_t>(cqe.flags >> IORING_CQE_BUFFER_SHIFT);
      if (listener) {
        query_buffers_.OnReceived(bid);
        OnQuery(ud.slot, bid, cqe.res);
      } else {
        answer_buffers_.Took();
        OnAnswer(ud.slot, bid, cqe.res);
      }
      return;
    }
    case kSendUpstream: {
      --sends_in_flight_;
      InflightSlot& slot = inflight_[ud.slot];
      if (slot.in_use && slot.generation == ud.generation) {
        if (cqe.res < 0) {
          ++counters_.send_errors;
          timers_->Schedule(ud.slot, NowMs());  // fail over at once
        }
      }
      query_buffers_.Release(ud.buffer);
      return;
    }
    case kSendAnswer:
      --sends_in_flight_;
      if (cqe.res < 0) ++counters_.send_errors;
      answer_buffers_.Recycle(ud.buffer);
      return;
    case kSendReply:
      --sends_in_flight_;
      if (cqe.res < 0) ++counters_.send_errors;
      query_buffers_.Release(ud.buffer);
      return;
    case kSendBig:
      --sends_in_flight_;
      if (cqe.res < 0) ++counters_.send_errors;
      GiveBack(kOwnsBig, ud.buffer);
      return;
    case kAccept: OnAccept(ud.slot, cqe); return;
    // A stream's generation changes only once nothing is armed on it, so these always
    // belong to the stream's current life.
    case kStreamRecv: OnStreamRecv(ud.slot, cqe.res); return;
    case kStreamSend:
      --sends_in_flight_;
      OnStreamSend(ud.slot, cqe.res);
      return;
    case kConnect: OnConnect(ud.slot, cqe.res); return;
    case kWake:
      // A stopping loop ticks; otherwise the read is armed again for the next wake-up (one
      // that failed is not: the loop then ticks rather than spin on it).
      wake_armed_ = cqe.res > 0 && !stopping_ && wake_.Arm(ring_, ring::UserData{kWake, 0, 0, 0});
      return;

    default: return;
  }
}

__kernel_timespec ShardReactor::LoopWait() const noexcept {
  // Queries in flight, a stop, or anything other threads hand over: every tick, for the
  // timers and the flags looked at each turn. Likewise a receive that waits for a buffer
  // to be armed again (a DNS-over-TLS listener has no UDP socket to arm), a stalled
  // stream, or sends whose completions the wait counts on (one that never came would
  // hold the wait, which a single datagram does not end, for the whole timeout).
  bool all_armed = upstream_udp_.all_armed();
  for (std::uint32_t i = 0; i < listeners_.size(); ++i) {
    all_armed =
        all_armed && (listeners_[i].armed || !listeners_[i].fd.valid()) && tcp_listeners_[i].armed;
  }
  const bool ticking = !wake_armed_ || stopping_ || udp_sends_queued_ != 0 ||
                       inflight_.in_use() != 0 || timers_->size() != 0 || cache_.awaiting() ||
                       stream_in_ || streams_handing_over_ != 0 || streams_.anyone_waiting() ||
                       !all_armed;
  if (ticking) return {0, kLoopWaitNs};
  // Idle: until a connection's timer is due, at most kIdleWaitMs.
  const std::int64_t now = NowMs();
  const std::int64_t until =
      stream_timers_ ? stream_timers_->NextDueMs(now + kIdleWaitMs) : now + kIdleWaitMs;
  // No shorter than the wheel's tick: the clock is coarse (a jiffy), and a wait that ends
  // before it moves would only wait again.
  const std::int64_t wait_ms =
      std::clamp<std::int64_t>(until - now, TimerWheel::kTickMs, kIdleWaitMs);
  return {wait_ms / 1000, (wait_ms % 1000) * 1'000'000};
}

void ShardReactor::Run(const std::atomic<bool>& stop) {
  while (true) {
    cache_.AdoptIfPublished();
    if (stream_in_) {
      const bool finished = stream_in_->finished();  // first: all it handed is then visible
      if (stream_in_->waiting()) AdoptStreams();
      if (finished) stream_in_.reset();
    }
    // Acquire: a reload's PassCacheOn happened before `stop` was set.
    if (!stopping_ && stop.load(std::memory_order_acquire)) {
      stopping_ = true;
      stopped_at_ms_ = NowMs();
      cache_.HandOver();
      if (stream_out_) BeginHandingOverStreams();
    }
    if (stopping_) {
      // Done once nothing is in flight and the listeners' receives and accepts have
      // ended: a request left armed on a socket a successor shares would take its
      // wake-ups (accept wakes one waiter only) with nobody left to run it.
      bool armed = false;
      for (std::uint32_t i = 0; i < listeners_.size(); ++i) {
        if (listeners_[i].armed) CancelListen(kRecvListener, i);
        if (tcp_listeners_[i].armed) CancelListen(kAccept, i);
        armed = armed || listeners_[i].armed || tcp_listeners_[i].armed;
      }
      // And once the predecessor has handed over every connection it will: one it hands
      // later would reach nobody and close (a predecessor that began stopping late, its
      // loop held up, still drains after this shard is told to stop).
      const bool drained = inflight_.in_use() == 0 && sends_in_flight_ == 0 && !armed &&
                           streams_handing_over_ == 0 && !stream_in_;
      if (drained || NowMs() - stopped_at_ms_ > kQueryDeadlineMs + 1000) break;
    }
    // UDP sends are issued inline by the submit and complete at once, so wait for their
    // completions and one event more: one io_uring_enter per query instead of two (the
    // send's completion would otherwise end the wait straight away).
    // Sends the ring pushed early (a full queue) may have completed and been handled
    // already: waiting for them would wait for nothing. Undercounting costs a turn.
    if (ring_.early_submits() != early_submits_seen_) {
      early_submits_seen_ = ring_.early_submits();
      udp_sends_queued_ = 0;
    }
    __kernel_timespec wait = LoopWait();
    const int rc = ring_.SubmitAndWait(1 + std::min<std::uint32_t>(udp_sends_queued_, 32), &wait);
    udp_sends_queued_ = 0;
    (void)rc;  // -ETIME is the normal idle wake-up; anything else shows as no completions
    ring_.ForEachCompletion([this](const io_uring_cqe& cqe) { HandleCompletion(cqe); });
    const std::int64_t now = NowMs();
    timers_->Advance(now, [this](std::uint32_t slot) { OnTimeout(slot); });
    stream_timers_->Advance(now, [this](std::uint32_t conn) { OnStreamTimer(conn); });
    if (!stopping_) upstream_udp_.Rotate(now);
    if (streams_.anyone_waiting()) ResumeStalledStreams();
    cache_.Report(metrics_);
    query_buffers_.provided().Commit();
    answer_buffers_.Commit();
    // A receive ended by ENOBUFS is re-armed only once a buffer has come back: armed on
    // an empty ring it would fail again at once, and the loop would spin at full CPU
    // while the datagrams wait in the socket.
    upstream_udp_.Rearm();
    if (!stopping_) {
      for (std::uint32_t i = 0; i < listeners_.size(); ++i) {
        if (!listeners_[i].armed && !query_buffers_.provided().exhausted()) {
          ArmReceive(kRecvListener, i, listeners_[i], kQueryGroup);
        }
        if (!tcp_listeners_[i].armed) ArmAccept(i);
      }
    }
  }
  ring_.Submit();
  // Connections close now rather than when the shard is destroyed (a reload's old
  // shards are joined later): their clients see the end at once and reconnect.
  // (shutdown: a receive still armed on the socket holds it open past close).
  for (Stream& stream : streams_) {
    if (stream.fd < 0) continue;
    ::shutdown(stream.fd, SHUT_RDWR);
    ::close(stream.fd);
    stream.fd = -1;
  }
  if (stream_out_) stream_out_->Finish();
}

}  // namespace ringdns::core
