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
// the order they were bound: the daemon binds shard 0's socket first, then shard 1's
// (core/udp_listener_groups.h), so index i is shard i in every group. A datagram the
// program cannot read (shorter than a header, a name that runs past its end) gets an
// index past the group, which makes the kernel fall back to its own hash: someone still
// answers it with FORMERR. Names too popular for one shard (core/hot_names.h) are listed
// by their hash and left to the kernel's hash too, so every shard caches them.
//
// The hash is keyed (a random multiplier, seed and octet mask drawn per process), so
// names that share a shard are not known outside. It is no cryptographic MAC: a flood of
// one name is handled by spreading it, not by the key.
#pragma once

#include <linux/filter.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "absl/status/status.h"

namespace ringdns::core {

// Only the name's first octets are hashed: the kernel refuses a program larger than
// net.core.optmem_max once converted to eBPF (20 480 octets by default before Linux 6.9,
// room for about 100 octets). Names that share their first 64 octets share a shard.
inline constexpr std::size_t kSteeredNameOctets = 64;
// At most this many names are spread (each costs the program one comparison).
inline constexpr std::size_t kMaxSpreadNames = 8;

struct SteeringKey {
  std::uint32_t seed = 0x811c9dc5u;
  std::uint32_t multiplier = 0x01000193u;               // odd
  std::array<std::uint8_t, kSteeredNameOctets> mask{};  // XORed into the name's octets

  // A key from getrandom.
  static SteeringKey Random();
};

// The program for a group of `sockets` sockets (at least 1); names whose hash is in
// `spread` (at most kMaxSpreadNames) go by the kernel's hash.
std::vector<sock_filter> QuestionSteeringProgram(std::uint32_t sockets, const SteeringKey& key,
                                                 std::span<const std::uint32_t> spread = {});

// The question's hash as the program computes it, or nullopt for a datagram it cannot
// read. Allocation-free: shards sample it on the packet path.
std::optional<std::uint32_t> QuestionSteeringHash(std::span<const std::uint8_t> datagram,
                                                  const SteeringKey& key) noexcept;

// What the program answers for `datagram` (the UDP payload): the socket index, or
// kSteerByKernel. The same arithmetic in C++, for tests and for tools that must know
// which shard a name belongs to.
inline constexpr std::uint32_t kSteerByKernel = 0xffffffffu;
std::uint32_t QuestionSteeringIndex(std::span<const std::uint8_t> datagram, std::uint32_t sockets,
                                    const SteeringKey& key,
                                    std::span<const std::uint32_t> spread = {}) noexcept;

// Attaches `program` to `fd`, a bound SO_REUSEPORT UDP socket, for its whole group (the
// last attach wins). The error says why not (an old kernel, a seccomp filter refusing
// the option, net.core.optmem_max too small).
absl::Status AttachSteering(int fd, std::span<const sock_filter> program);
// Leaves the group `fd` is in to the kernel's hash again.
void DetachSteering(int fd) noexcept;

// Builds the program and attaches it.
absl::Status SteerByQuestion(int fd, std::uint32_t sockets, const SteeringKey& key,
                             std::span<const std::uint32_t> spread = {});

}  // namespace ringdns::core
