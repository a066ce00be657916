// core/udp_steering.h: which shard a UDP query goes to, decided by its question.
//
// Each shard has its own cache and coalescing table. With the kernel's SO_REUSEPORT hash
// (by the client's address and port) the same question from two clients, or from one stub
// on two source ports, lands on two shards: two upstream queries, two cache entries, TTLs
// that do not count down. A classic BPF program on each listener group hashes the
// question's name instead (case-folded, so DNS 0x20 spellings agree) and picks the socket
// at that index, so per-shard caches behave as one. Classic BPF needs no privilege and no
// toolchain (SO_ATTACH_REUSEPORT_CBPF, Linux 4.5).
//
// The program returns the socket's index in the group, and the group keeps its sockets in
// the order they were bound: the daemon binds shard 0's socket first, then shard 1's, so
// index i is shard i in every group (and a name goes to one shard whatever the listener).
// A datagram the program cannot read (shorter than a header, a name that runs past its
// end) gets an index past the group, which makes the kernel fall back to its own hash:
// someone still answers it with FORMERR. The hash is keyed by a seed each process draws
// at start, so nobody outside can choose names that all land on one shard.
//
// Names too popular for one shard (core/hot_names.h) are listed by their hash; the program
// leaves those to the kernel's hash too, so every shard caches them and shares their load.
#pragma once

#include <linux/filter.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "absl/status/status.h"

namespace ringdns::core {

// At most this many names are spread (each costs the program one comparison).
inline constexpr std::size_t kMaxSpreadNames = 8;

// The program for a group of `sockets` sockets (at least 1), hashing with `seed`; names
// whose hash is in `spread` (at most kMaxSpreadNames) go by the kernel's hash.
std::vector<sock_filter> QuestionSteeringProgram(std::uint32_t sockets, std::uint32_t seed,
                                                 std::span<const std::uint32_t> spread = {});

// The question's hash as the program computes it, or nullopt for a datagram it cannot
// read. Allocation-free: shards sample it on the packet path.
std::optional<std::uint32_t> QuestionSteeringHash(std::span<const std::uint8_t> datagram, std::uint32_t seed) noexcept;

// What the program answers for `datagram` (the UDP payload): the socket index, or
// kSteerByKernel. The same arithmetic in C++, for tests and for tools that must know
// which shard a name belongs to.
inline constexpr std::uint32_t kSteerByKernel = 0xffffffffu;
std::uint32_t QuestionSteeringIndex(std::span<const std::uint8_t> datagram, std::uint32_t sockets, std::uint32_t seed,
                                    std::span<const std::uint32_t> spread = {}) noexcept;

// Attaches the program to `fd`, a bound SO_REUSEPORT UDP socket, for its whole group
// (the last attach wins; every socket of a group attaches the same program). The error
// says why not (an old kernel, a seccomp filter refusing setsockopt's option).
absl::Status SteerByQuestion(int fd, std::uint32_t sockets, std::uint32_t seed,
                             std::span<const std::uint32_t> spread = {});

}  // namespace ringdns::core
