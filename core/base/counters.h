// core/base/counters.h: what a shard counts. Written only by the owning shard, read by the
// metrics scrape while it runs (RelaxedCounter: a plain add, no lock, no race).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "core/base/relaxed_counter.h"

namespace ringdns::core {

struct ShardCounters {
  RelaxedCounter queries;       // queries received, UDP and TCP
  RelaxedCounter forwarded;     // queries sent upstream (first attempts)
  RelaxedCounter retries;       // further attempts after a timeout or error
  RelaxedCounter answers;       // upstream answers delivered to clients
  RelaxedCounter cache_hits;    // answered from the cache
  RelaxedCounter cache_misses;  // cacheable queries that went upstream
  RelaxedCounter cache_inserts;
  RelaxedCounter cache_stale;             // answered from an expired entry (serve_stale)
  RelaxedCounter cache_prefetches;        // refreshes of popular entries before they expire
  RelaxedCounter cache_stale_refreshes;   // refreshes of entries served stale
  RelaxedCounter coalesced;               // queries that shared an identical one's upstream answer
  RelaxedCounter tcp_accepted;            // client connections
  RelaxedCounter tcp_queries;             // queries read from client connections
  RelaxedCounter tcp_refused;             // connections closed at once: the shard had no room
  RelaxedCounter tcp_handed_over;         // client connections passed to a reload's successor
  RelaxedCounter tcp_adopted;             // ... and taken over from a reload's predecessor
  RelaxedCounter tcp_idle_closed;         // idle past the idle timeout
  RelaxedCounter tcp_read_timeouts;       // a message begun and not finished in time
  RelaxedCounter tcp_write_timeouts;      // a client that did not read its answers in time
  RelaxedCounter tcp_bad_frames;          // zero or oversized length, or not a query
  RelaxedCounter tcp_query_limit;         // connections closed after their query quota
  RelaxedCounter tcp_stalls;              // reads paused: in-flight limit or no buffer
  RelaxedCounter tls_handshakes;          // DNS-over-TLS sessions established
  RelaxedCounter tls_handshake_failures;  // refused certificates, protocol errors
  RelaxedCounter tls_handshake_timeouts;  // handshakes not finished in time
  RelaxedCounter tls_resumed;             // upstream TLS connections that resumed a session
  RelaxedCounter tls_refused;  // connections closed at once: no session or handshake free
  RelaxedCounter tc_retries;   // truncated UDP answers asked again over TCP
  RelaxedCounter tc_relayed;   // ... whose TCP retry failed: the UDP client got TC
  RelaxedCounter upstream_tcp_connects;
  RelaxedCounter upstream_tcp_failures;      // connects refused, connections broken
  RelaxedCounter upstream_tcp_silent;        // given up: queries waited read_timeout, no byte came
  RelaxedCounter upstream_write_timeouts;    // connections given up: writes did not drain
  RelaxedCounter upstream_socket_rotations;  // UDP sockets replaced by one on a fresh port
  RelaxedCounter upstream_socket_rotation_failures;  // no socket to replace one with: it serves on
  RelaxedCounter truncated;                          // answers cut to the client's UDP size (TC)
  RelaxedCounter formerr;                            // malformed queries answered FORMERR
  RelaxedCounter notimp;                             // opcodes other than QUERY
  RelaxedCounter badvers;                            // EDNS version above 0
  RelaxedCounter acl_blocked;                        // acl block: REFUSED
  RelaxedCounter acl_filtered;                       // acl filter: empty NOERROR
  RelaxedCounter acl_dropped;                        // acl drop: no answer
  RelaxedCounter any_minimal;                        // any: RFC 8482 HINFO answers to ANY
  RelaxedCounter chaos_answers;                      // chaos: CH TXT answers (version.bind, ...)
  RelaxedCounter whoami_answers;                     // whoami: the client's address and port
  RelaxedCounter hosts_answers;                      // hosts: NOERROR answers (records or NODATA)
  RelaxedCounter hosts_servfail;     // hosts: a name it has no address for, no fallthrough
  RelaxedCounter bufsize_lowered;    // bufsize: queries whose EDNS payload size was lowered
  RelaxedCounter template_answers;   // template: answers (and NXDOMAINs) it wrote
  RelaxedCounter template_failures;  // template: a record that did not render (SERVFAIL)
  RelaxedCounter rewrites;           // rewrite: queries (refreshes too) a rule changed
  RelaxedCounter rewrite_failures;   // rewrite: not a name afterwards, no room, or an answer that
                                     // would not re-encode (SERVFAIL)
  RelaxedCounter refused;            // no server block serves the zone
  RelaxedCounter view_refused;  // of those: a zone's blocks all have views, and none took the query
  RelaxedCounter servfail_no_forward;      // the block has no forward for the name
  RelaxedCounter servfail_timeout;         // every attempt failed before the deadline
  RelaxedCounter servfail_no_slot;         // in-flight table full
  RelaxedCounter servfail_no_buffer;       // a large TCP answer found every big buffer held
  RelaxedCounter servfail_all_down;        // failfast_all_unhealthy_upstreams with all down
  RelaxedCounter refused_max_concurrent;   // above the forward's max_concurrent
  RelaxedCounter dropped_short;            // shorter than a header, or cut by the buffer
  RelaxedCounter dropped_qr;               // QR set on a query: never answer an answer
  RelaxedCounter dropped_unsolicited;      // answer with no matching (socket, ID)
  RelaxedCounter dropped_wrong_source;     // answer from another address or port
  RelaxedCounter dropped_mismatch;         // answer whose question differs (RFC 5452)
  RelaxedCounter dropped_malformed;        // answer that fails validation
  RelaxedCounter dropped_case_mismatch;    // answer that does not echo the 0x20 spelling
  RelaxedCounter case_fallback_refused;    // two folds for one query by an upstream that echoes
  RelaxedCounter case_tcp_retries;         // queries asked over TCP after two folds by one upstream
  RelaxedCounter case_tcp_failures;        // ... whose TCP attempt failed: asked plain over UDP
  RelaxedCounter dropped_cookie_mismatch;  // answer with another client cookie, or a malformed one
  RelaxedCounter dropped_cookie_missing;   // no cookie, from an upstream that has shown them
  RelaxedCounter cookie_retries;           // BADCOOKIE: asked again with the new server cookie
  RelaxedCounter cookie_tcp_retries;      // asked over TCP after an answer without our cookie, or a
                                          // second BADCOOKIE
  RelaxedCounter cookie_tcp_failures;     // ... whose TCP attempt failed: asked over UDP, no cookie
  RelaxedCounter cookies_given_up;        // upstreams whose answers kept coming without our cookie
  RelaxedCounter cookie_formerr_retries;  // FORMERR to a query with our COOKIE: asked again without
  RelaxedCounter enobufs;                 // receives that found no free buffer
  RelaxedCounter send_errors;
  RelaxedCounter reply_failures;  // no answer could be built or placed: nothing was sent
  RelaxedCounter log_dropped;     // `log`/`errors` records lost: the logger fell behind
  RelaxedCounter dnstap_dropped;  // `dnstap` records lost: the writer or a collector fell behind
  RelaxedCounter
      invariant_violations;  // "cannot happen", caught and recovered (core/base/invariant.h)

  ShardCounters& operator+=(const ShardCounters& other);
};

// Calls visit(name, value) for every counter, in declaration order.
void ForEachCounter(const ShardCounters& counters,
                    const std::function<void(const char* name, std::uint64_t value)>& visit);

// "queries=10 forwarded=9 ...", every non-zero counter, for logs.
std::string FormatCounters(const ShardCounters& counters);

}  // namespace ringdns::core
