#include "core/udp_steering.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace ringdns::core {
namespace {

// The question's name starts right after the 12-octet header. Only its first 64 octets
// are hashed: each octet costs the program about 22 eBPF instructions once the kernel
// has converted it, and the kernel refuses a program larger than net.core.optmem_max
// (20 480 octets by default before Linux 6.9: about 100 name octets). Names that share
// their first 64 octets share a shard; that is still a function of the name.
constexpr std::uint32_t kNameOffset = 12;
constexpr std::uint32_t kHashedOctets = 64;

// h = (h + (octet | 0x20)) * kPrime from the seed over the name's octets up to its first
// zero (or its 64th octet), then
// mixed so the low bits (the modulo) depend on every octet. OR 0x20 folds A-Z onto a-z
// (and merges a few other octet pairs, which only makes names share a shard). The first
// zero is the root label's for every name in plain text; a name with a zero octet inside
// a label stops there, which is still a function of the name, case-insensitive.
constexpr std::uint32_t kPrime = 0x01000193u;
constexpr std::uint32_t kMix = 0x045d9f3bu;

std::uint32_t Mix(std::uint32_t h) noexcept {
  h ^= h >> 16;
  h *= kMix;
  h ^= h >> 16;
  return h;
}

sock_filter Stmt(std::uint16_t code, std::uint32_t k) { return BPF_STMT(code, k); }
sock_filter Jump(std::uint16_t code, std::uint32_t k, std::uint8_t jt, std::uint8_t jf) {
  return BPF_JUMP(code, k, jt, jf);
}

}  // namespace

std::vector<sock_filter> QuestionSteeringProgram(std::uint32_t sockets, std::uint32_t seed,
                                                 std::span<const std::uint32_t> spread) {
  if (spread.size() > kMaxSpreadNames) spread = spread.first(kMaxSpreadNames);
  // Conditional jumps reach at most 255 instructions ahead, so each octet's block leaves
  // through an unconditional jump (32-bit offset) to the shared endings; they are patched
  // once the endings' positions are known. The hash lives in X, A is the scratch.
  std::vector<sock_filter> p;
  std::vector<std::size_t> to_kernel;
  std::vector<std::size_t> to_done;
  p.push_back(Stmt(BPF_LDX | BPF_W | BPF_IMM, seed));
  for (std::uint32_t i = 0; i < kHashedOctets; ++i) {
    const std::uint32_t offset = kNameOffset + i;
    p.push_back(Stmt(BPF_LD | BPF_W | BPF_LEN, 0));                // A = payload length
    p.push_back(Jump(BPF_JMP | BPF_JGT | BPF_K, offset, 1, 0));    // octet present?
    to_kernel.push_back(p.size());
    p.push_back(Stmt(BPF_JMP | BPF_JA, 0));                        // no: the name never ends
    p.push_back(Stmt(BPF_LD | BPF_B | BPF_ABS, offset));           // A = octet
    p.push_back(Jump(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1));         // the end of the name?
    to_done.push_back(p.size());
    p.push_back(Stmt(BPF_JMP | BPF_JA, 0));
    p.push_back(Stmt(BPF_ALU | BPF_OR | BPF_K, 0x20));
    p.push_back(Stmt(BPF_ALU | BPF_ADD | BPF_X, 0));
    p.push_back(Stmt(BPF_ALU | BPF_MUL | BPF_K, kPrime));
    p.push_back(Stmt(BPF_MISC | BPF_TAX, 0));
  }
  // 64 octets without a zero: a long name, hashed by its prefix.
  const std::size_t done = p.size();
  p.push_back(Stmt(BPF_MISC | BPF_TXA, 0));
  p.push_back(Stmt(BPF_ALU | BPF_RSH | BPF_K, 16));
  p.push_back(Stmt(BPF_ALU | BPF_XOR | BPF_X, 0));             // h ^= h >> 16
  p.push_back(Stmt(BPF_ALU | BPF_MUL | BPF_K, kMix));
  p.push_back(Stmt(BPF_MISC | BPF_TAX, 0));
  p.push_back(Stmt(BPF_ALU | BPF_RSH | BPF_K, 16));
  p.push_back(Stmt(BPF_ALU | BPF_XOR | BPF_X, 0));
  // A spread name jumps past the modulo and its return, to the kernel's choice.
  for (std::size_t i = 0; i < spread.size(); ++i) {
    p.push_back(Jump(BPF_JMP | BPF_JEQ | BPF_K, spread[i], static_cast<std::uint8_t>(spread.size() - i + 1), 0));
  }
  p.push_back(Stmt(BPF_ALU | BPF_MOD | BPF_K, sockets == 0 ? 1 : sockets));
  p.push_back(Stmt(BPF_RET | BPF_A, 0));
  const std::size_t kernel = p.size();
  p.push_back(Stmt(BPF_RET | BPF_K, kSteerByKernel));
  for (std::size_t at : to_kernel) p[at].k = static_cast<std::uint32_t>(kernel - at - 1);
  for (std::size_t at : to_done) p[at].k = static_cast<std::uint32_t>(done - at - 1);
  return p;
}

std::optional<std::uint32_t> QuestionSteeringHash(std::span<const std::uint8_t> datagram,
                                                  std::uint32_t seed) noexcept {
  std::uint32_t h = seed;
  for (std::uint32_t i = 0; i < kHashedOctets; ++i) {
    const std::size_t offset = kNameOffset + i;
    if (offset >= datagram.size()) return std::nullopt;
    const std::uint8_t octet = datagram[offset];
    if (octet == 0) break;
    h = (h + (octet | 0x20u)) * kPrime;
  }
  return Mix(h);
}

std::uint32_t QuestionSteeringIndex(std::span<const std::uint8_t> datagram, std::uint32_t sockets, std::uint32_t seed,
                                    std::span<const std::uint32_t> spread) noexcept {
  const std::optional<std::uint32_t> h = QuestionSteeringHash(datagram, seed);
  if (!h) return kSteerByKernel;
  if (spread.size() > kMaxSpreadNames) spread = spread.first(kMaxSpreadNames);
  for (std::uint32_t hot : spread) {
    if (hot == *h) return kSteerByKernel;
  }
  return *h % (sockets == 0 ? 1 : sockets);
}

absl::Status SteerByQuestion(int fd, std::uint32_t sockets, std::uint32_t seed, std::span<const std::uint32_t> spread) {
  std::vector<sock_filter> program = QuestionSteeringProgram(sockets, seed, spread);
  sock_fprog prog{static_cast<unsigned short>(program.size()), program.data()};
  if (::setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof(prog)) != 0) {
    const int error = errno;
    return absl::UnavailableError(absl::StrCat("SO_ATTACH_REUSEPORT_CBPF: ", std::strerror(error),
                                               error == ENOMEM ? " (net.core.optmem_max is too small)" : ""));
  }
  return absl::OkStatus();
}

}  // namespace ringdns::core
