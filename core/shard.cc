#include "core/shard.h"

#include <time.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "core/net.h"
#include "ring/user_data.h"
#include "wire/message.h"
#include "wire/patch.h"
#include "wire/response.h"

namespace ringdns::core {
namespace {

constexpr std::uint16_t kQueryGroup = 1;
constexpr std::uint16_t kAnswerGroup = 2;
// A received buffer holds the recvmsg header, the source address, then the payload.
constexpr std::uint32_t kNameLen = sizeof(sockaddr_in6);
constexpr std::uint32_t kPayloadOffset = sizeof(io_uring_recvmsg_out) + kNameLen;
// Queries are small; the room after one is where error answers are written in place.
constexpr std::uint32_t kQueryBufferSize = 2048;
// Answers up to 4 KiB (the largest EDNS size most resolvers advertise) fit whole; a
// larger one arrives cut (MSG_TRUNC) and the client gets TC and retries over TCP.
constexpr std::uint32_t kAnswerBufferSize = 4096 + kPayloadOffset;
constexpr long kLoopWaitNs = 4'000'000;  // the timer wheel's tick

struct Received {
  std::uint8_t* payload = nullptr;
  std::size_t len = 0;
  const sockaddr* from = nullptr;
  socklen_t from_len = 0;
  bool truncated = false;
};

// Decodes a multishot recvmsg completion's buffer. Returns false if the kernel's layout
// does not fit the buffer (never expected; counted as a short datagram).
bool Decode(std::span<std::uint8_t> buffer, int res, msghdr& layout, Received& out) {
  io_uring_recvmsg_out* header = io_uring_recvmsg_validate(buffer.data(), res, &layout);
  if (header == nullptr) return false;
  out.payload = static_cast<std::uint8_t*>(io_uring_recvmsg_payload(header, &layout));
  out.len = io_uring_recvmsg_payload_length(header, res, &layout);
  out.from = static_cast<const sockaddr*>(io_uring_recvmsg_name(header));
  out.from_len = header->namelen > kNameLen ? kNameLen : header->namelen;
  out.truncated = (header->flags & MSG_TRUNC) != 0;
  return true;
}

int FamilyIndex(int family) { return family == AF_INET6 ? 1 : 0; }

}  // namespace

Shard::Shard(ShardId id, const RouteTable& routes, const ShardOptions& options)
    : id_(id), routes_(routes), options_(options), inflight_(options.slots),
      pending_(options.slots) {}

Shard::~Shard() = default;

std::int64_t Shard::NowMs() const noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return std::int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1'000'000;
}

std::uint8_t* Shard::QueryPayload(std::uint16_t bid) noexcept {
  return query_buffers_.Buffer(bid).data() + kPayloadOffset;
}

absl::Status Shard::Init() {
  if (const int rc = ring_.Init({}); rc < 0) {
    return absl::UnavailableError(absl::StrCat("shard ", id_, ": io_uring set-up failed: ",
                                               std::strerror(-rc)));
  }
  if (int rc = query_buffers_.Init(ring_.raw(), kQueryGroup, options_.query_buffers,
                                   kQueryBufferSize);
      rc < 0) {
    return absl::UnavailableError(absl::StrCat("shard ", id_, ": provided buffer ring: ",
                                               std::strerror(-rc)));
  }
  if (int rc = answer_buffers_.Init(ring_.raw(), kAnswerGroup, options_.answer_buffers,
                                    kAnswerBufferSize);
      rc < 0) {
    return absl::UnavailableError(absl::StrCat("shard ", id_, ": provided buffer ring: ",
                                               std::strerror(-rc)));
  }
  query_sends_.resize(options_.query_buffers);
  query_refs_.assign(options_.query_buffers, 0);
  answer_sends_.resize(options_.answer_buffers);
  round_robin_.assign(routes_.forward_count, id_);  // shards start apart
  timers_.emplace(options_.slots, NowMs());
  std::uint32_t cache_capacity = 0;
  for (const BlockRoute& block : routes_.blocks) {
    if (block.cache && block.cache->capacity > cache_capacity) cache_capacity = block.cache->capacity;
  }
  if (cache_capacity > 0) cache_.emplace(cache_capacity);

  for (std::uint32_t i = 0; i < routes_.listeners.size(); ++i) {
    const ListenerSpec& spec = routes_.listeners[i];
    absl::StatusOr<ring::UniqueFd> fd = OpenUdpListener(spec.address);
    if (!fd.ok() && spec.optional) continue;  // no IPv6 on this host
    if (!fd.ok()) return fd.status();
    Socket& s = listeners_.emplace_back();
    s.fd = std::move(*fd);
    s.family = spec.address.family();
    s.spec = i;
  }
  if (listeners_.empty()) return absl::UnavailableError("no listener could be opened");
  bool need[2] = {false, false};
  for (const BlockRoute& block : routes_.blocks) {
    for (const ForwardRoute& f : block.forwards) {
      for (const SockAddr& up : f.upstreams) need[FamilyIndex(up.family())] = true;
    }
  }
  for (int family : {AF_INET, AF_INET6}) {
    if (!need[FamilyIndex(family)]) continue;
    const SockAddr* source = nullptr;
    for (const SockAddr& s : routes_.source_addresses) {
      if (s.family() == family) source = &s;
    }
    for (std::uint32_t i = 0; i < options_.upstream_sockets; ++i) {
      absl::StatusOr<ring::UniqueFd> fd = OpenUpstreamSocket(family, source);
      if (!fd.ok()) return fd.status();
      sockets_by_family_[FamilyIndex(family)].push_back(
          static_cast<std::uint16_t>(upstream_sockets_.size()));
      Socket& s = upstream_sockets_.emplace_back();
      s.fd = std::move(*fd);
      s.family = family;
    }
  }
  for (std::uint32_t i = 0; i < listeners_.size(); ++i) {
    ArmReceive(kRecvListener, i, listeners_[i], kQueryGroup);
  }
  for (std::uint32_t i = 0; i < upstream_sockets_.size(); ++i) {
    ArmReceive(kRecvUpstream, i, upstream_sockets_[i], kAnswerGroup);
  }
  if (ring_.Submit() < 0) return absl::UnavailableError("io_uring submit failed");
  return absl::OkStatus();
}

void Shard::ArmReceive(Op op, std::uint32_t index, Socket& socket, std::uint16_t group) {
  io_uring_sqe* sqe = ring_.GetSqe();
  if (sqe == nullptr) return;  // retried on the next loop turn
  socket.recv_msg = {};
  socket.recv_msg.msg_namelen = kNameLen;
  io_uring_prep_recvmsg_multishot(sqe, socket.fd.get(), &socket.recv_msg, 0);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = group;
  io_uring_sqe_set_data64(sqe, ring::UserData{op, 0, index, 0}.Pack());
  socket.armed = true;
}

void Shard::QueueSend(int fd, Op op, std::uint32_t slot, std::uint16_t generation,
                      std::uint16_t bid, SendContext& ctx, std::uint8_t* data, std::size_t len,
                      const sockaddr* to, socklen_t to_len) {
  ctx.iov = {data, len};
  std::memcpy(&ctx.addr, to, to_len);
  ctx.msg = {};
  ctx.msg.msg_name = &ctx.addr;
  ctx.msg.msg_namelen = to_len;
  ctx.msg.msg_iov = &ctx.iov;
  ctx.msg.msg_iovlen = 1;
  const std::uint64_t user_data = ring::UserData{op, generation, slot, bid}.Pack();
  io_uring_sqe* sqe = ring_.GetSqe();
  ++sends_in_flight_;
  if (sqe == nullptr) {
    // The kernel refused a submission: complete the send as failed right here.
    io_uring_cqe fake{};
    fake.user_data = user_data;
    fake.res = -EBUSY;
    HandleCompletion(fake);
    return;
  }
  io_uring_prep_sendmsg(sqe, fd, &ctx.msg, 0);
  io_uring_sqe_set_data64(sqe, user_data);
}

void Shard::ServeFromCache(std::uint32_t listener, std::uint16_t bid, std::uint8_t* payload,
                           const wire::QueryView& q, const Cache::Hit& hit,
                           const CachePolicy& policy, const sockaddr* to, socklen_t to_len,
                           std::int64_t now_ms) {
  // The stored answer replaces the query in its own buffer (a slot fits in the room a
  // query buffer has), then takes the client's ID and the client's spelling of the name.
  wire::NameStorage client_qname;
  std::memcpy(client_qname.data(), payload + wire::header::kSize, q.qname_len);
  std::memcpy(payload, hit.answer.data(), hit.answer.size());
  const std::span<std::uint8_t> answer(payload, hit.answer.size());
  wire::SetId(answer, q.id);
  std::memcpy(payload + wire::header::kSize, client_qname.data(), q.qname_len);
  // One walk: age the TTLs (unless keepttl) and learn what truncation needs.
  const wire::Result<wire::ResponseInfo> info =
      policy.keepttl
          ? wire::WalkResponse(answer)
          : wire::WalkAndAgeTtls(answer, static_cast<std::uint32_t>((now_ms - hit.stored_ms) / 1000));
  if (info) {
    ++counters_.cache_hits;
    ReplyFromQueryBuffer(listener, bid, wire::TruncateForUdp(answer, *info, wire::MaxUdpAnswerSize(q.opt)),
                         to, to_len);
  } else {
    ++counters_.reply_failures;  // cannot happen: only walked answers are stored
  }
  UnrefQuery(bid);
}

void Shard::ReplyFromQueryBuffer(std::uint32_t listener, std::uint16_t bid, std::size_t len,
                                 const sockaddr* to, socklen_t to_len) {
  RefQuery(bid);
  QueueSend(listeners_[listener].fd.get(), kSendReply, 0, 0, bid, query_sends_[bid],
            QueryPayload(bid), len, to, to_len);
}

void Shard::OnQuery(std::uint32_t listener, std::uint16_t bid, int res) {
  Received rx;
  ++counters_.queries;
  query_refs_[bid] = 1;  // this function's; handed to the slot when the query is forwarded
  if (!Decode(query_buffers_.Buffer(bid), res, listeners_[listener].recv_msg, rx) ||
      rx.truncated || rx.len < wire::header::kSize) {
    ++counters_.dropped_short;
    UnrefQuery(bid);
    return;
  }
  const std::uint16_t flags = wire::LoadU16(rx.payload + wire::header::kFlags);
  if ((flags & wire::flag::kQr) != 0) {
    ++counters_.dropped_qr;  // an answer sent to a listener: answering it could loop
    UnrefQuery(bid);
    return;
  }
  const std::span<const std::uint8_t> msg(rx.payload, rx.len);
  const std::span<std::uint8_t> room(rx.payload, kQueryBufferSize - kPayloadOffset);
  const wire::Result<wire::QueryView> q = wire::ParseQuery(msg);
  auto reply = [&](std::uint16_t rcode, bool with_question) {
    wire::Result<std::size_t> len =
        with_question ? wire::BuildErrorAnswer(msg, *q, {rcode}, room)
                      : wire::BuildHeaderOnlyAnswer(msg, rcode, room);
    if (len) {
      ReplyFromQueryBuffer(listener, bid, *len, rx.from, rx.from_len);
    } else {
      ++counters_.reply_failures;
    }
    UnrefQuery(bid);
  };
  if (wire::Opcode(flags) != wire::opcode::kQuery) {
    ++counters_.notimp;
    return reply(wire::rcode::kNotImp, q.has_value());
  }
  if (!q) {
    ++counters_.formerr;
    return reply(wire::rcode::kFormErr, false);
  }
  if (q->opt.present() && q->opt.version > 0) {
    ++counters_.badvers;  // RFC 6891 section 6.1.3
    return reply(wire::rcode::kBadVers, true);
  }
  const std::span<const std::uint8_t> qname = q->qname(msg);
  const zones::RouteId route = routes_.listeners[listeners_[listener].spec].trie.Match(qname);
  if (route == zones::kNoRoute) {
    ++counters_.refused;
    return reply(wire::rcode::kRefused, true);
  }
  const ForwardRoute* forward = routes_.PickForward(route, qname);
  if (forward == nullptr) {
    ++counters_.servfail_no_forward;
    return reply(wire::rcode::kServFail, true);
  }
  const std::int64_t now = NowMs();
  const CachePolicy* cache_policy =
      routes_.blocks[route].cache && cache_ ? &*routes_.blocks[route].cache : nullptr;
  CacheKey cache_key;
  if (cache_policy != nullptr && cache_policy->Covers(qname)) {
    const std::uint8_t key_flags =
        static_cast<std::uint8_t>((q->opt.do_bit() ? CacheKey::kDo : 0) |
                                  ((q->flags & wire::flag::kCd) != 0 ? CacheKey::kCd : 0));
    cache_key = MakeCacheKey(forward->id, qname, q->qtype, q->qclass, key_flags);
    const Cache::Hit hit = cache_->Find(cache_key, qname, now);
    if (!hit.answer.empty()) {
      return ServeFromCache(listener, bid, rx.payload, *q, hit, *cache_policy, rx.from,
                            rx.from_len, now);
    }
    ++counters_.cache_misses;
  } else {
    cache_policy = nullptr;
  }
  const std::uint32_t index = inflight_.Take();
  if (index == InflightTable::kNone) {
    ++counters_.servfail_no_slot;
    return reply(wire::rcode::kServFail, true);
  }
  InflightSlot& slot = inflight_[index];
  slot.client_id = q->id;
  slot.query_buffer = bid;
  slot.query_len = static_cast<std::uint16_t>(rx.len);
  slot.qname_len = q->qname_len;
  slot.opcode = q->opcode();
  slot.qtype = q->qtype;
  slot.qclass = q->qclass;
  slot.client_udp_size = wire::MaxUdpAnswerSize(q->opt);
  slot.listener = static_cast<std::uint8_t>(listener);
  slot.attempts = 0;
  slot.forward = forward;
  slot.cache_policy = cache_policy;
  slot.cache_key = cache_key;
  slot.deadline_ms = now + kQueryDeadlineMs;
  std::memcpy(&slot.client, rx.from, rx.from_len);
  slot.client_len = rx.from_len;
  if (!ChooseUpstream(slot, index, /*first=*/true)) {
    // No socket for the upstream's family: fail over as a network error would.
    timers_->Schedule(index, now);
    return;
  }
  ++counters_.forwarded;
  SendToUpstream(index);
  timers_->Schedule(index, std::min(now + forward->read_timeout_ms, slot.deadline_ms));
}

bool Shard::ChooseUpstream(InflightSlot& slot, std::uint32_t index, bool first) {
  const ForwardRoute& f = *slot.forward;
  const auto n = static_cast<std::uint32_t>(f.upstreams.size());
  if (first) {
    switch (f.policy) {
      case config::Policy::kRandom: slot.upstream = static_cast<std::uint8_t>(random_.Below(n)); break;
      case config::Policy::kRoundRobin:
        slot.upstream = static_cast<std::uint8_t>(round_robin_[f.id]++ % n);
        break;
      case config::Policy::kSequential: slot.upstream = 0; break;
    }
  } else {
    slot.upstream = static_cast<std::uint8_t>((slot.upstream + 1) % n);
  }
  const std::vector<std::uint16_t>& sockets =
      sockets_by_family_[FamilyIndex(f.upstreams[slot.upstream].family())];
  if (sockets.empty()) return false;
  slot.upstream_socket =
      sockets[random_.Below(static_cast<std::uint32_t>(sockets.size()))];
  // An unpredictable ID, unique among the queries waiting on that socket (RFC 5452).
  std::uint32_t key;
  do {
    slot.txid = random_.Next16();
    key = PendingIndex::Key(slot.upstream_socket, slot.txid);
  } while (pending_.Contains(key));
  pending_.Insert(key, index);
  return true;
}

void Shard::SendToUpstream(std::uint32_t index) {
  InflightSlot& slot = inflight_[index];
  std::uint8_t* query = QueryPayload(slot.query_buffer);
  wire::SetId({query, slot.query_len}, slot.txid);
  const SockAddr& upstream = slot.forward->upstreams[slot.upstream];
  RefQuery(slot.query_buffer);
  QueueSend(upstream_sockets_[slot.upstream_socket].fd.get(), kSendUpstream, index,
            slot.generation, slot.query_buffer, query_sends_[slot.query_buffer], query,
            slot.query_len, upstream.get(), upstream.len);
}

void Shard::FinishSlot(std::uint32_t index) {
  InflightSlot& slot = inflight_[index];
  pending_.Erase(PendingIndex::Key(slot.upstream_socket, slot.txid));
  timers_->Cancel(index);
  const std::uint16_t bid = slot.query_buffer;
  inflight_.Release(index);
  UnrefQuery(bid);  // the slot's hold on its query
}

void Shard::OnTimeout(std::uint32_t index) {
  InflightSlot& slot = inflight_[index];
  if (!slot.in_use) return;
  pending_.Erase(PendingIndex::Key(slot.upstream_socket, slot.txid));
  ++slot.attempts;
  const std::int64_t now = NowMs();
  const bool out_of_attempts =
      slot.forward->max_attempts != 0 && slot.attempts >= slot.forward->max_attempts;
  if (now < slot.deadline_ms && !out_of_attempts && ChooseUpstream(slot, index, false)) {
    ++counters_.retries;
    SendToUpstream(index);
    timers_->Schedule(index, std::min(now + slot.forward->read_timeout_ms, slot.deadline_ms));
    return;
  }
  // Every attempt failed: SERVFAIL, with an Extended DNS Error when the client speaks
  // EDNS (RFC 8914 "No Reachable Authority"), written over the query in place.
  ++counters_.servfail_timeout;
  const std::uint16_t bid = slot.query_buffer;
  std::uint8_t* payload = QueryPayload(bid);
  wire::SetId({payload, slot.query_len}, slot.client_id);
  const std::span<const std::uint8_t> msg(payload, slot.query_len);
  const wire::Result<wire::QueryView> q = wire::ParseQuery(msg);
  wire::Result<std::size_t> len = wire::Error::kBadText;
  if (q) {
    len = wire::BuildErrorAnswer(msg, *q, {wire::rcode::kServFail, true,
                                           wire::ede::kNoReachableAuthority},
                                 {payload, kQueryBufferSize - kPayloadOffset});
  }
  if (len) {
    ReplyFromQueryBuffer(slot.listener, bid, *len, reinterpret_cast<const sockaddr*>(&slot.client),
                         slot.client_len);
  } else {
    ++counters_.reply_failures;
  }
  inflight_.Release(index);
  UnrefQuery(bid);
}

void Shard::OnAnswer(std::uint32_t socket, std::uint16_t bid, int res) {
  Received rx;
  if (!Decode(answer_buffers_.Buffer(bid), res, upstream_sockets_[socket].recv_msg, rx) ||
      rx.len < wire::header::kSize) {
    ++counters_.dropped_short;
    answer_buffers_.Recycle(bid);
    return;
  }
  const std::uint16_t txid = wire::GetId({rx.payload, rx.len});
  const std::uint32_t index = pending_.Find(PendingIndex::Key(static_cast<std::uint16_t>(socket), txid));
  if (index == PendingIndex::kEmpty) {
    ++counters_.dropped_unsolicited;  // late, duplicate, or forged
    answer_buffers_.Recycle(bid);
    return;
  }
  InflightSlot& slot = inflight_[index];
  if (!SameEndpoint(rx.from, slot.forward->upstreams[slot.upstream].get())) {
    ++counters_.dropped_wrong_source;
    answer_buffers_.Recycle(bid);
    return;
  }
  const wire::Question question{{QueryPayload(slot.query_buffer) + wire::header::kSize,
                                 slot.qname_len},
                                slot.qtype,
                                slot.qclass};
  const std::span<std::uint8_t> answer(rx.payload, rx.len);
  if (wire::MatchAnswer(answer, txid, slot.opcode, question) != wire::Error::kOk) {
    ++counters_.dropped_mismatch;
    answer_buffers_.Recycle(bid);
    return;
  }
  std::size_t len = 0;
  if (rx.truncated) {
    // Larger than our buffer: tell the client to retry over TCP. The header and question
    // arrived whole (they come first), so truncate what we have to just those.
    wire::ResponseInfo info;
    info.question.question_end =
        static_cast<std::uint16_t>(wire::header::kSize + slot.qname_len + 4);
    wire::SetId(answer, slot.client_id);
    len = wire::TruncateForUdp(answer, info, wire::kClassicUdpSize);
    ++counters_.truncated;
  } else {
    const wire::Result<wire::ResponseInfo> info = wire::WalkResponse(answer);
    if (!info) {
      ++counters_.dropped_malformed;
      answer_buffers_.Recycle(bid);
      return;
    }
    if (slot.cache_policy != nullptr) {
      // Cache the whole answer, before it is cut for this client.
      const std::uint32_t ttl = CacheTtl(*info, question.qname, *slot.cache_policy);
      if (ttl > 0 && cache_->Insert(slot.cache_key, answer, NowMs(), ttl)) ++counters_.cache_inserts;
    }
    wire::SetId(answer, slot.client_id);
    len = wire::TruncateForUdp(answer, *info, slot.client_udp_size);
    if (len < rx.len) ++counters_.truncated;
  }
  ++counters_.answers;
  QueueSend(listeners_[slot.listener].fd.get(), kSendAnswer, 0, 0, bid, answer_sends_[bid],
            rx.payload, len, reinterpret_cast<const sockaddr*>(&slot.client), slot.client_len);
  FinishSlot(index);
}

void Shard::HandleCompletion(const io_uring_cqe& cqe) {
  const ring::UserData ud = ring::UserData::Unpack(cqe.user_data);
  switch (ud.op) {
    case kRecvListener:
    case kRecvUpstream: {
      const bool listener = ud.op == kRecvListener;
      Socket& socket = listener ? listeners_[ud.slot] : upstream_sockets_[ud.slot];
      if ((cqe.flags & IORING_CQE_F_MORE) == 0) socket.armed = false;  // re-armed by Run
      if (cqe.res < 0) {
        if (cqe.res == -ENOBUFS) ++counters_.enobufs;  // back-pressure: re-armed later
        return;
      }
      if ((cqe.flags & IORING_CQE_F_BUFFER) == 0) return;
      const auto bid = static_cast<std::uint16_t>(cqe.flags >> IORING_CQE_BUFFER_SHIFT);
      if (listener) {
        OnQuery(ud.slot, bid, cqe.res);
      } else {
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
      UnrefQuery(ud.buffer);
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
      UnrefQuery(ud.buffer);
      return;
    default:
      return;
  }
}

void Shard::Run(const std::atomic<bool>& stop) {
  __kernel_timespec wait{0, kLoopWaitNs};
  while (true) {
    if (!stopping_ && stop.load(std::memory_order_relaxed)) {
      stopping_ = true;
      for (std::uint32_t i = 0; i < listeners_.size(); ++i) {
        if (io_uring_sqe* sqe = ring_.GetSqe()) {
          io_uring_prep_cancel64(sqe, ring::UserData{kRecvListener, 0, i, 0}.Pack(), 0);
          io_uring_sqe_set_data64(sqe, ring::UserData{kCancel, 0, 0, 0}.Pack());
        }
      }
    }
    if (stopping_ && inflight_.in_use() == 0 && sends_in_flight_ == 0) break;
    const int rc = ring_.SubmitAndWait(1, &wait);
    (void)rc;  // -ETIME is the normal idle wake-up; anything else shows as no completions
    ring_.ForEachCompletion([this](const io_uring_cqe& cqe) { HandleCompletion(cqe); });
    timers_->Advance(NowMs(), [this](std::uint32_t slot) { OnTimeout(slot); });
    query_buffers_.Commit();
    answer_buffers_.Commit();
    for (std::uint32_t i = 0; i < upstream_sockets_.size(); ++i) {
      if (!upstream_sockets_[i].armed) ArmReceive(kRecvUpstream, i, upstream_sockets_[i], kAnswerGroup);
    }
    if (!stopping_) {
      for (std::uint32_t i = 0; i < listeners_.size(); ++i) {
        if (!listeners_[i].armed) ArmReceive(kRecvListener, i, listeners_[i], kQueryGroup);
      }
    }
  }
  ring_.Submit();
}

}  // namespace ringdns::core
