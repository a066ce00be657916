// core/shard/shard_reactor.h: the inside of a shard (core/shard/shard.h is its public
// face): a thread's io_uring loop that receives queries on its own SO_REUSEPORT
// listeners, forwards them from its own upstream sockets, and answers. Only the shard's
// own files include this header.
//
// Everything here is shard-local: the ring, the buffer pools (core/buffers/), the
// sockets (the upstream UDP ones in core/upstream/udp_sockets.h), the in-flight table,
// the pending-answer and coalescing indexes, the timer wheel, the response cache, the
// random pool and the counters. The packet path takes no lock, shares no write with
// another shard and allocates nothing: every table is sized in Init.
// Init and Run on the shard's own thread (the ring is SINGLE_ISSUER).
//
// The code is in these files, in the order of the declarations below: shard_reactor.cc
// (set-up, the loop, completions, sends), shard_forward.cc (queries in, upstream out,
// answers back, timeouts), shard_reply.cc (every answer to a client, and the errors
// ringdns writes itself), shard_slot.cc (filling, admitting, moving on and releasing a
// query's in-flight slot), shard_upstream.cc (choosing upstreams by policy and health,
// adaptive timeouts, retries with a hedge), shard_case.cc (DNS 0x20), shard_cookies.cc
// (DNS cookies), shard_view.cc (view), shard_rewrite.cc (rewrite's edits to queries as
// they arrive), shard_cache.cc (cache hits, coalescing of identical misses, refreshes,
// serve-stale), shard_tcp.cc (TCP streams: client connections, framing, ordered writes,
// limits and timeouts), shard_handoff.cc (client connections across a reload),
// shard_tls.cc (DNS over TLS both ways) and shard_tcp_upstream.cc (pooled, pipelined TCP
// connections to upstreams, TC retries); shard_memory.cc holds the memory bound, declared
// with the public API in shard.h. The types they share have their own headers:
// shard_client.h, shard_lookup.h, shard_io.h, shard_stream.h and shard_succession.h.
// Components the reactor owns and calls have their own files too: query_rewrites.h,
// stream_table.h, tap_recorder.h, tls_slots.h, and those of core/buffers/,
// core/upstream/, core/ops/.
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/base/counters.h"
#include "core/base/fixed_queue.h"
#include "core/base/random.h"
#include "core/base/reserved.h"
#include "core/buffers/big_buffers.h"
#include "core/buffers/query_buffers.h"
#include "core/cache/cache.h"
#include "core/cache/response_cache.h"
#include "core/health.h"
#include "core/hot_names.h"
#include "core/log_queue.h"
#include "core/metrics.h"
#include "core/ops/error_log.h"
#include "core/routes.h"
#include "core/shard/cache_succession.h"
#include "core/shard/inflight.h"
#include "core/shard/loop_probe.h"
#include "core/shard/query_rewrites.h"
#include "core/shard/shard.h"
#include "core/shard/shard_client.h"
#include "core/shard/shard_io.h"
#include "core/shard/shard_layout.h"
#include "core/shard/shard_lookup.h"
#include "core/shard/shard_options.h"
#include "core/shard/shard_stream.h"
#include "core/shard/shard_succession.h"
#include "core/shard/slot_index.h"
#include "core/shard/stream_handoff.h"
#include "core/shard/stream_table.h"
#include "core/shard/tap_recorder.h"
#include "core/shard/timer_wheel.h"
#include "core/shard/tls_slots.h"
#include "core/stream/tcp_stream.h"
#include "core/stream/tls_session.h"
#include "core/udp_steering.h"
#include "core/upstream/case_randomization.h"
#include "core/upstream/connection_pools.h"
#include "core/upstream/cookie_jar.h"
#include "core/upstream/forward_concurrency.h"
#include "core/upstream/outgoing_query.h"
#include "core/upstream/rtt_estimator.h"
#include "core/upstream/selector.h"
#include "core/upstream/udp_sockets.h"
#include "ring/buffer_ring.h"
#include "ring/fd.h"
#include "ring/ring.h"
#include "ring/wake.h"
#include "wire/message.h"
#include "wire/patch.h"

namespace ringdns::core {

class ShardReactor {
 public:
  // `health` (shared with the prober), `cases` (which upstreams get DNS 0x20 names) and
  // `loop` (the start-up loop check) are shared by every shard and outlive it.
  ShardReactor(ShardId id, const RouteTable& routes, HealthTable& health, CaseRandomization& cases,
               LoopProbe& loop, const ShardOptions& options, ShardSuccession succession);
  ShardReactor(const ShardReactor&) = delete;
  ShardReactor& operator=(const ShardReactor&) = delete;
  ~ShardReactor();

  // Sets up the ring, buffers and sockets and arms the receives. Errors name the cause.
  absl::Status Init();
  // Serves until `stop` is set, then stops receiving, lets in-flight queries finish or
  // reach their deadline, and returns.
  void Run(const std::atomic<bool>& stop);
  // Any thread: ends the loop's wait, so that it looks at `stop` (and what else other
  // threads hand it) now. A loop with nothing in flight sleeps for up to a second.
  void Wake() const noexcept { wake_.Notify(); }

  // Reload, control thread, before `stop` is set (with release): once stopped, hand the
  // cache to `to` instead of dropping it.
  void PassCacheOn(std::shared_ptr<CacheHandoff> to) { cache_.PassOnTo(std::move(to)); }
  // Likewise: once stopped, hand client connections to `to` once answered, instead of
  // closing them.
  void PassStreamsOn(std::shared_ptr<StreamHandoff> to) { stream_out_ = std::move(to); }
  // Duplicates of the TCP listener sockets for a successor (control thread, after Init);
  // the daemon hands out the UDP ones (core/udp_listener_groups.h).
  std::vector<ShardSuccession::Listener> DuplicateListeners() const;

  const ShardCounters& counters() const noexcept { return counters_; }
  // Safe to read from any thread while the shard runs (relaxed counters).
  const ShardMetrics& metrics() const noexcept { return metrics_; }
  // Sampled question hashes, drained by the daemon's balancer thread.
  // Null when UDP is not steered.
  QuestionSamples* question_samples() noexcept { return question_samples_.get(); }
  const std::string& ring_description() const noexcept { return ring_.description(); }
  const char* io_backend() const noexcept { return ring_.backend(); }
  // The records for `log` and `errors` (null when no block has either); after Init.
  LogQueue* log_queue() noexcept { return log_queue_.get(); }
  dnstap::TapQueue* tap_queue() noexcept { return taps_.queue(); }

 private:
  // shard_reactor.cc
  // The listening socket for `address`: the predecessor's when it had one, else new.
  absl::StatusOr<ring::UniqueFd> ListenerSocket(const SockAddr& address, bool tcp);
  void ArmReceive(Op op, std::uint32_t index, Socket& socket, std::uint16_t group);
  // Asks the kernel to end a listener's multishot receive or accept (stopping).
  void CancelListen(Op op, std::uint32_t listener);
  void HandleCompletion(const io_uring_cqe& cqe);
  // `pieces`: when given, what is sent in place of `data` (a query upstream, laid out
  // by LayOutQuery; `data` stays the client's).
  void QueueSend(int fd, Op op, std::uint32_t slot, std::uint16_t generation, std::uint16_t bid,
                 SendContext& ctx, std::uint8_t* data, std::size_t len, const sockaddr* to,
                 socklen_t to_len, const ReplySource& from = {},
                 const OutgoingQuery* pieces = nullptr);
  void GiveBack(Owner owner, std::uint16_t bid) noexcept;
  std::int64_t NowMs() const noexcept;
  // How long the loop may wait for completions.
  __kernel_timespec LoopWait() const noexcept;

  // shard_forward.cc
  void OnQuery(std::uint32_t listener, std::uint16_t bid, int res);
  // Everything after a query's bytes are in buffer `client.bid`: both transports.
  void ServeQuery(Client& client, std::span<std::uint8_t> msg);
  // Proves an answer answers the slot's query and hands it on; `owner`/`bid` hold it.
  void OnUpstreamAnswer(std::uint32_t slot_index, std::uint8_t upstream, std::uint16_t txid,
                        std::span<std::uint8_t> answer, bool cut, Owner owner, std::uint16_t bid);
  void OnAnswer(std::uint32_t socket, std::uint16_t bid, int res);
  void OnTimeout(std::uint32_t slot_index);
  // Sends the slot's query to its first upstream and arms its timer. Precondition: Admit.
  void StartForward(std::uint32_t slot_index, std::int64_t now_ms);
  void SendToUpstream(std::uint32_t slot_index);
  void RelayTruncation(std::uint32_t index);  // the TCP retry of a TC answer failed

  // shard_reply.cc
  // An answer that must not stay where it lies (in an upstream stream's read buffer, or
  // in the answer ring on its way to a TCP client) moves into a buffer of its own: the
  // query's when nothing else reads it (most answers: the answer side never waits for a
  // pool the clients hold), else a spare TCP buffer or a big one. False when none can
  // be had; `data`, `owner` and `bid` are set otherwise.
  bool PlaceAnswer(const InflightSlot& slot, std::span<const std::uint8_t> answer,
                   std::uint8_t*& data, Owner& owner, std::uint16_t& bid);
  // Sends the answer a pipeline stage wrote into the query's buffer (truncated to the
  // client's UDP size as an upstream's answer would be).
  void ReplyFromStage(const Client& client, std::span<std::uint8_t> room, std::size_t len);
  // SERVFAIL for a rewritten query whose buffer a stage's answer overwrote.
  void ReplyRewriteFailure(const Client& client, const OriginalQuestion& original);
  // The length of `answer` cut to `udp_size` (TC, no records but OPT) for a client of
  // `block`. A block with `minimal` sheds authority and additional records first, which
  // may make it fit, as CoreDNS's writers do. `info` is WalkResponse's over `answer`.
  // `cut` tells whether it had to be truncated all the same.
  std::size_t FitForUdp(std::uint16_t block, std::span<std::uint8_t> answer,
                        const wire::ResponseInfo& info, std::uint16_t udp_size, bool& cut) noexcept;
  void ReplyFromQueryBuffer(const Client& client, std::size_t len,
                            LogError error = LogError::kNone);
  // Answers are written over their query, in its buffer. When a send still reads that
  // buffer (the query waits in the queue of an upstream connection still connecting),
  // `write` gets the client with its query moved to a spare TCP query buffer instead, so
  // that send goes out as it was. With no spare free nothing is written or sent.
  void WriteOverQuery(const Client& client, absl::FunctionRef<void(const Client&)> write);
  // Sends `len` bytes at `data` to the client (framed on TCP, truncated by the caller on
  // UDP); `owner` and `bid` say which buffer to give back afterwards. `error`: the
  // answer reports a failure of ringdns's own (for `errors`).
  void SendToClient(const Client& client, std::uint8_t* data, std::size_t len, Owner owner,
                    std::uint16_t bid, LogError error = LogError::kNone);
  // Where an answer of `len` octets at `data`, in `owner`'s buffer `bid`, may grow for
  // the answer hooks: to its buffer's end, and over UDP to the client's UDP size.
  std::span<std::uint8_t> AnswerRoom(const Client& client, std::uint8_t* data, std::size_t len,
                                     Owner owner, std::uint16_t bid) noexcept;
  // `log` and `errors`: a record of the answer for the logger thread (dropped and
  // counted when its queue is full).
  void RecordForLog(const Client& client, const std::uint8_t* data, std::size_t len,
                    LogError error) noexcept;
  // Writes SERVFAIL (with EDE 22 when the client speaks EDNS) over the client's query.
  void ReplyServfail(const Client& client, LogError why = LogError::kUpstreamsFailed);
  void ReplyTruncated(const Client& client);  // NOERROR, TC, the question: ask over TCP
  void ReplyError(const Client& client, const wire::ErrorAnswer& error, LogError why);
  void WriteError(const Client& client, const wire::ErrorAnswer& error,
                  LogError why);  // ReplyError's body

  // shard_slot.cc
  // Fills a taken slot for `client`'s query. The slot holds the client's buffer.
  void FillSlot(std::uint32_t slot_index, const Client& client, const wire::QueryView& q,
                const Lookup& lookup, std::int64_t now_ms);
  // The one way a slot gets its forward: a new query, a refresh, `next` moving it on.
  // Resets what the previous forward left (attempts, the TC retry) and picks the
  // transport: CoreDNS's rule, a query goes upstream the way it came unless prefer_udp
  // or force_tcp (tls:// is force_tcp).
  void SetForward(InflightSlot& slot, const ForwardRoute& forward) noexcept;
  // Counts the slot against its forward's max_concurrent (this shard's share); false,
  // counting nothing, when that share is taken.
  bool Admit(InflightSlot& slot) noexcept;
  // Forgets everything about a slot and lets go of its query buffer.
  void ReleaseSlot(std::uint32_t slot_index);
  // `next RCODE`: the slot's query leaves its forward (its attempts forgotten, its count
  // released) for `next`, admitted and started there or refused.
  void MoveOnTo(std::uint32_t slot_index, const ForwardRoute& next, std::int64_t now_ms);

  // shard_upstream.cc: which upstream, how long to wait, what its answers say of it.
  // Picks the slot's upstream (by policy for the first attempt, the next one after) among
  // those up, or any when none is, and binds it.
  bool ChooseUpstream(InflightSlot& slot, std::uint32_t slot_index, bool first);
  // Gives the slot a socket (UDP) or stream (TCP) to its chosen upstream and a fresh
  // TXID unique on it, and files it in pending_. False when there is none.
  bool BindUpstream(InflightSlot& slot, std::uint32_t slot_index);
  // Erases the slot's (socket, TXID) entries, the hedge's too; for TCP, the connection
  // stops waiting on it.
  void ForgetPending(InflightSlot& slot) noexcept;
  // The slot's upstream again over UDP at once, from a fresh socket and ID, with a fresh
  // attempt timeout (the upstream did answer: no failure of its).
  void AskAgainOverUdp(std::uint32_t slot_index);
  // A 0x20 or cookie check over TCP that failed (refused, timed out, broken): the query
  // goes back to its upstream over UDP, and nobody is blamed.
  void BackToUdpAfterCheck(std::uint32_t slot_index);
  static std::int64_t NowUs() noexcept;

  // failfast_all_unhealthy_upstreams applies: no attempt is made, at the start or on a retry.
  bool FailsFast(const ForwardRoute& forward) const noexcept {
    return forward.failfast && selector_.AllDown(forward);
  }
  // The current attempt's timeout, from this upstream's round trips as this shard saw them.
  std::int64_t AttemptTimeoutMs(const InflightSlot& slot) const noexcept {
    return rtt_[slot.forward->first_upstream + slot.upstream].AttemptTimeoutMs(
        slot.forward->read_timeout_ms, options_.min_attempt_timeout_ms, slot.attempts);
  }
  // The next attempt, to the next upstream: kRetried, or why not (attempts or time are
  // up; every upstream is down and the forward fails fast). The UDP attempt before is
  // kept as a hedge (its late answer is still taken).
  enum class Retry : std::uint8_t { kRetried, kExhausted, kAllDown };
  Retry RetryNext(std::uint32_t slot_index, std::int64_t now_ms);
  // Which attempt an answer on (socket, txid) belongs to; false when neither.
  bool AttemptOf(const InflightSlot& slot, std::uint16_t socket, std::uint16_t txid,
                 std::uint8_t& upstream) const noexcept;

  // shard_case.cc
  // The slot's name, spelled with its case key into the scratch of its query buffer;
  // empty when this attempt goes out plain (TCP, 0x20 off, or an upstream that does
  // not echo case).
  std::span<const std::uint8_t> SpellForUpstream(InflightSlot& slot, std::int64_t now_ms);
  // A fresh key (never 0) that spells at least one letter of the slot's name upper case,
  // so that a folded echo is always seen (wire::SpellsAnUpperLetter).
  std::uint64_t DrawCaseKey(const InflightSlot& slot) noexcept;
  // An answer to a spelled attempt must echo the spelling; an answer taken gets the
  // client's spelling of the question back. False (counted; the caller drops the answer)
  // when it does not: when it was the current attempt the query goes to the upstream
  // again at once, spelled afresh, or over TCP after its second fold (at once if the
  // folded answer was `cut` or truncated); core/upstream/case_randomization.h decides
  // whether the upstream falls back to plain names.
  bool AcceptSpelling(std::uint32_t slot_index, std::uint8_t upstream, std::uint16_t txid,
                      std::span<std::uint8_t> answer, bool cut);
  // The TCP attempt two folds led to failed (no TCP at that upstream, or none to be had
  // here): the query goes to it plain over UDP, as before 0x20, rather than be lost or
  // count against the upstream's health.
  void AskPlainAfterFolds(std::uint32_t slot_index);

  // shard_cookies.cc
  // Judges the COOKIE of an answer that passed WalkResponse (`over_udp`: to an attempt
  // that carried ours) and takes it out of `answer` (and `info`), with the OPT when the
  // client sent none. False (counted; the caller drops the answer) for a forgery, an
  // answer without our cookie from an upstream that has shown them, or with another
  // client's (asked again over TCP),
  // BADCOOKIE (asked again once with the new server cookie, then over TCP), or FORMERR
  // (asked again without ringdns's COOKIE).
  bool AcceptCookie(std::uint32_t slot_index, std::uint8_t upstream, std::uint16_t txid,
                    std::span<std::uint8_t>& answer, wire::ResponseInfo& info, bool over_udp,
                    std::int64_t now_ms);
  // The query asked over TCP because its UDP answer lacked our cookie: a check, which
  // charges no health and, should TCP fail, falls back to UDP without the cookie
  // (AskWithoutCookie).
  void CheckCookieOverTcp(std::uint32_t slot_index);
  void AskWithoutCookie(std::uint32_t slot_index);

  // shard_view.cc
  // The block that serves the query on its listener: views evaluated in order;
  // kNoRoute when none, REFUSED (counted in view_refused when a zone matched but no
  // view took the query).
  zones::RouteId RouteOf(const Client& client, std::span<const std::uint8_t> msg,
                         const wire::QueryView& q, std::span<const std::uint8_t> qname) noexcept;

  // shard_rewrite.cc (what the edit leaves behind is rewrites_'s)
  // The block's rewrite (lookup.rewrite) on a query about to go on to the stages and the
  // forward. When the rules change the question, `client` and `lookup` (name, forward)
  // describe the rewritten query and `edited` is its parse; `original` is the question
  // before, also stashed beside the query when the answer needs it. False: the query
  // gets SERVFAIL, its question first put back when `edited_in_place`.
  bool ApplyRewrite(Client& client, std::span<std::uint8_t> query, const wire::QueryView& q,
                    zones::RouteId route, Lookup& lookup, OriginalQuestion& original,
                    std::optional<wire::QueryView>& edited, bool& edited_in_place) noexcept;

  // shard_cache.cc
  // Answers from the cache or starts what it needs (prefetch, stale refresh); returns
  // true when the client was answered. Sets lookup.policy to null when not cacheable.
  bool ServeFromCache(const Client& client, Lookup& lookup, std::int64_t now_ms);
  // Writes `answer` over the client's query as the answer to that client (its ID, its
  // spelling of the name), TTLs capped at `ttl_cap` unless it is kNoTtlCap, the upstream's
  // COOKIE dropped, truncated to the client's size; sends it.
  // Precondition: answer.size() <= layout::kQueryRoom and it passed WalkResponse.
  static constexpr std::uint32_t kNoTtlCap = 0xffffffffu;
  void ServeCopy(const Client& client, std::span<const std::uint8_t> answer, std::uint32_t ttl_cap);
  void WriteCopy(const Client& client, std::span<const std::uint8_t> answer,
                 std::uint32_t ttl_cap);  // its body
  // Chains the query behind an identical one in flight; false when there is none or it
  // has enough waiters already.
  bool JoinInFlight(std::uint32_t slot_index, const Lookup& lookup);
  void RegisterLeader(std::uint32_t slot_index);
  // Stores an upstream answer by the slot's policy; a SERVFAIL never replaces an answer
  // still live or stale.
  void StoreAnswer(const InflightSlot& slot, std::span<const std::uint8_t> answer,
                   const wire::ResponseInfo& info, std::int64_t now_ms);
  // Hands the leader's upstream answer to each waiter and releases them. A waiter whose
  // answer does not fit its buffer is forwarded on its own instead.
  void AnswerWaiters(std::uint32_t leader, std::span<const std::uint8_t> answer);
  // Detaches the leader's chain of waiters and calls visit(index, slot) for each.
  template <typename Visit>
  void ForEachWaiter(std::uint32_t leader, Visit&& visit);
  // A waiter the leader's outcome cannot serve asks upstream on its own.
  void ForwardAlone(std::uint32_t waiter);
  // Every attempt failed: SERVFAIL to each waiter, and release them.
  void FailWaiters(std::uint32_t leader);
  // REFUSED to the slot's client (max_concurrent reached), and the slot released.
  void RefuseOverLimit(std::uint32_t slot_index);
  // The TCP retry of a TC answer failed: TC to each UDP waiter; TCP ones ask on their own.
  void TruncateWaiters(std::uint32_t leader);
  // serve_stale: answers the slot's client and waiters from the expired (or still live)
  // entry instead of a failure. False when there is no such entry.
  bool ServeStale(std::uint32_t slot_index, std::int64_t now_ms);
  // Sends a query of ringdns's own to renew the entry `lookup` names; no client waits.
  // False when one is already in flight for the key, or no slot or buffer is free.
  bool StartRefresh(const Lookup& lookup, std::span<const std::uint8_t> stored_answer,
                    std::int64_t now_ms);

  // shard_tcp.cc
  absl::Status InitStreams();
  void ArmAccept(std::uint32_t listener);
  void OnAccept(std::uint32_t listener, const io_uring_cqe& cqe);
  // Slot `conn` serving `fd` from `listener`, accepted or handed over; the caller sets
  // what differs (queries so far, when opened, the peer).
  Stream& OpenClientStream(std::uint32_t conn, int fd, std::uint32_t listener);
  static void TuneClientSocket(int fd) noexcept;  // TCP_NODELAY, a small send buffer
  void OnStreamRecv(std::uint32_t conn, int res);
  void OnStreamSend(std::uint32_t conn, int res);
  void ArmStreamRecv(std::uint32_t conn);
  void ArmStreamSend(std::uint32_t conn);
  // A client stream after a send: close once drained, resume reading, hand over, re-time.
  void AfterClientSend(std::uint32_t conn);
  // Sends `bytes` (a plain-TCP answer, or a TLS record's ciphertext) on the stream; closes
  // it if the send cannot be submitted.
  void SendOnStream(std::uint32_t conn, std::span<const std::uint8_t> bytes, int flags);
  // Queues a framed write (`data` has 2 writable octets before it for the length).
  // False, having given the buffer back, when the connection is gone or its queue full.
  bool StreamWrite(std::uint32_t conn, std::uint16_t generation, std::uint8_t* data,
                   std::size_t len, Owner owner, std::uint16_t bid);
  // A client connection's query will get no answer (acl drop): it no longer counts
  // against the connection's in-flight limit.
  void StreamQueryDone(std::uint32_t conn, std::uint16_t generation);
  // The next DNS message in the stream's read buffer, TLS records decrypted as needed:
  // kNone when none is complete yet; kGone when the stream closed on the way.
  enum class Frame : std::uint8_t { kMessage, kNone, kBad, kGone };
  Frame NextFrame(std::uint32_t conn, std::span<std::uint8_t>& message);
  // Client connection: takes complete queries out of the read buffer, each into a TCP
  // query buffer, at most `budget` of them (kAnyNumber: as many as there are buffers).
  // While other connections wait for a buffer, a connection joins the end of their queue
  // instead of taking one: freed buffers go round the waiting connections in turn.
  static constexpr std::uint32_t kAnyNumber = 0xffffffffu;
  void ReadClientQueries(std::uint32_t conn, std::uint32_t budget = kAnyNumber);
  // Hands freed TCP query buffers to the waiting connections, one query each in turn.
  void ResumeStalledStreams();
  void CloseStream(std::uint32_t conn);
  // A queued write is over (sent, or dropped with its stream): its buffer goes back.
  // Drops every write of query buffer `bid` to an upstream not yet begun (the query was
  // answered meanwhile), giving back its hold.
  void CancelUnsentWrites(std::uint16_t bid) noexcept;
  void SkipCancelledWrites(Stream& s) noexcept;  // pops cancelled writes off the front
  void WriteDone(Stream& s, const PendingWrite& w) noexcept {
    if (w.owner == kOwnsBig && s.big_held > 0) --s.big_held;
    GiveBack(static_cast<Owner>(w.owner), w.buffer);
  }
  void FinishClose(std::uint32_t conn);
  void OnStreamTimer(std::uint32_t conn);
  void ScheduleStreamTimer(std::uint32_t conn);

  // shard_handoff.cc: client connections across a reload (core/shard/stream_handoff.h).
  // Old shard, once stopping with a successor: every client connection stops reading.
  void BeginHandingOverStreams();
  // Old shard: hands the connection over if nothing is in flight on it.
  void TryHandOver(std::uint32_t conn);
  // Old shard: a connection that arrived while stopping goes to the successor untouched.
  void HandOverFresh(int fd, std::uint32_t listener);
  // A client connection accepted on TCP listener `listener`, as handed over.
  HandedStream Handed(std::uint32_t listener, const sockaddr_in6& peer, socklen_t peer_len,
                      int fd) const;
  // New shard, each loop turn: takes what the predecessor handed over.
  void AdoptStreams();
  void AdoptStream(HandedStream& handed);
  std::uint32_t TcpListenerFor(const SockAddr& address) const noexcept;

  // shard_tls.cc
  // Starts the TLS session of a connection accepted on a tls:// listener; false (the
  // connection refused and counted) when the shard has no session or handshake free.
  bool StartTls(std::uint32_t conn, SSL_CTX* ctx);
  // The client side, on a connection to a tls:// upstream that has just connected:
  // resumes the pool's last session when there is one. False when no session is free.
  bool StartTlsClient(std::uint32_t conn);
  // Gives the connection the session in slot `index` once `started`; otherwise gives
  // the slot back (if any) and counts the refusal.
  bool AttachTls(std::uint32_t conn, std::uint32_t index, bool started);
  // Feeds the `received` ciphertext octets to the connection's session.
  void OnTlsReceived(std::uint32_t conn, std::size_t received);
  // Moves the handshake on and decrypts into the connection's read buffer; true when
  // plaintext was added. On failure the stream is closed (and false returned).
  bool DecryptMore(std::uint32_t conn);
  // Sends what the session has to send: handshake messages, then the queued answers
  // encrypted, one record at a time; one send in flight.
  void PumpTlsSend(std::uint32_t conn);
  void OnTlsSend(std::uint32_t conn, int res);
  void EndTls(std::uint32_t conn) noexcept;

  // shard_tcp_upstream.cc
  // The connection a TCP query to the slot's upstream goes on, opened if needed; kNoConn
  // when none can be had, or none may be opened yet (its pool backs off).
  std::uint32_t UpstreamStream(const InflightSlot& slot);
  // When a query that found no socket or connection for its upstream tries again: at
  // once, or when its upstream's pool may open a connection again.
  std::int64_t RetryWithoutConnectionAt(const InflightSlot& slot, std::int64_t now) const noexcept;
  void SendOverTcp(std::uint32_t slot_index);
  void OnConnect(std::uint32_t conn, int res);
  void ReadUpstreamAnswers(std::uint32_t conn);
  // The connection broke: every query waiting on it fails over, at once if it had
  // worked; else its pool backs off before the next connection.
  void BreakUpstream(std::uint32_t conn);
  // A UDP answer with TC: ask the same upstream again over TCP.
  void RetryOverTcp(std::uint32_t slot_index);
  // Asks the slot's upstream again over TCP, for the rest of the query (after TC, or
  // after folded 0x20 answers that a forger may have sent).
  void AskOverTcp(std::uint32_t slot_index);

  // An upstream stream is filed in pending_ under a socket number above every UDP
  // socket's: kStreamSocketBase + its index among the upstream streams.
  std::uint16_t PendingSocketOf(std::uint32_t conn) const noexcept {
    return static_cast<std::uint16_t>(layout::kStreamSocketBase +
                                      (conn - options_.tcp_connections));
  }
  std::uint32_t StreamOfPendingSocket(std::uint16_t socket) const noexcept {
    return options_.tcp_connections + (socket - layout::kStreamSocketBase);
  }
  // The address of the listener the client asked (dnstap's responder).
  const SockAddr& LocalAddressOf(const Client& client) const noexcept {
    return routes_.listeners[listeners_[client.listener].spec].address;
  }
  // The name a slot asks for, as its client spelled it (offset 12 of its query).
  std::span<const std::uint8_t> QnameOf(const InflightSlot& slot) noexcept {
    return {query_buffers_.Payload(slot.query_buffer) + wire::header::kSize, slot.qname_len};
  }

  const ShardId id_;
  const RouteTable& routes_;
  HealthTable& health_;
  CaseRandomization& cases_;  // which upstreams get 0x20 names (shared)
  LoopProbe& loop_;
  const ShardOptions options_;
  ShardSuccession succession_;                         // consumed by Init
  std::unique_ptr<QuestionSamples> question_samples_;  // when steered

  ShardCounters counters_;  // before the components that count into it

  ring::Wake wake_;          // made by the constructor's thread: Wake() may come before Init
  bool wake_armed_ = false;  // its read is armed: the loop may sleep past a timer tick
  // Order matters: buffer rings unregister from the ring, so they go first.
  ring::Ring ring_;
  QueryBuffers query_buffers_{
      counters_.invariant_violations};      // every query's buffer, and who holds it
  QueryRewrites rewrites_{query_buffers_};  // rewritten queries' questions and answers
  ring::ProvidedBufferRing answer_buffers_;
  std::vector<Socket> listeners_;
  UpstreamUdpSockets upstream_udp_;
  std::vector<SendContext> query_sends_;
  std::vector<SendContext> answer_sends_;
  ForwardConcurrency concurrency_{
      counters_.invariant_violations};  // max_concurrent: this shard's share of each forward's
  UpstreamSelector selector_;
  std::vector<RttEstimator> rtt_;     // per global upstream id
  std::optional<CookieJar> cookies_;  // empty when upstream_cookies is off
  BigBuffers big_buffers_{
      counters_.invariant_violations};  // answers over TCP too large for a query buffer
  std::vector<SendContext> big_sends_;

  std::vector<Socket> tcp_listeners_;
  StreamTable streams_{
      counters_.invariant_violations};  // client connections [0, tcp_connections), then upstream
  TlsSlots tls_{0, 0, 0, counters_.invariant_violations};  // DNS over TLS, sized in InitStreams
  TapRecorder taps_{routes_, streams_, counters_.dnstap_dropped};  // `dnstap`
  ErrorLog error_log_{id_};                 // lines on stderr an operator must see, rate-limited
  UpstreamConnectionPools upstream_pools_;  // the upstream streams' grouping and back-off
  std::optional<TimerWheel> stream_timers_;

  InflightTable inflight_;
  PendingIndex pending_;
  CoalescingIndex coalescing_;
  std::optional<TimerWheel> timers_;
  CacheSuccession cache_;  // when some block has `cache`: the predecessor's, or a fresh one
  std::shared_ptr<StreamHandoff> stream_in_;   // a predecessor's connections, while it drains
  std::shared_ptr<StreamHandoff> stream_out_;  // where this shard's go when it stops
  std::uint32_t streams_handing_over_ = 0;
  RandomPool random_;
  std::unique_ptr<LogQueue> log_queue_;
  ShardMetrics metrics_;
  std::uint32_t sends_in_flight_ = 0;
  std::uint32_t udp_sends_queued_ = 0;    // since the last submit
  std::uint64_t early_submits_seen_ = 0;  // ring_.early_submits() at the last wait
  bool stopping_ = false;
  std::int64_t stopped_at_ms_ = 0;
};

}  // namespace ringdns::core
