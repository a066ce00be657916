#include "core/udp_steering.h"

#include <sys/random.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace ringdns::core {
namespace {

// The question's name starts right after the 12-octet header. Each hashed octet costs
// the program about 23 eBPF instructions once the kernel has converted it.
constexpr std::uint32_t kNameOffset = 12;

// h = (h + ((octet | 0x20) ^ mask[i])) * multiplier from the seed over the name's
// octets up to its first zero (or its 64th octet), then mixed so the low bits (the
// modulo) depend on every octet. OR 0x20 folds A-Z onto a-z (and merges a few other
// octet pairs, which only makes names share a shard). The first zero is the root
// label's for every name in plain text; a name with a zero octet inside a label stops
// there, which is still a function of the name, case-insensitive.
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

SteeringKey SteeringKey::Random() {
  SteeringKey key;
  std::uint8_t bytes[8 + kSteeredNameOctets];
  std::size_t got = 0;
  while (got < sizeof(bytes)) {
    const ssize_t n = ::getrandom(bytes + got, sizeof(bytes) - got, 0);
    if (n > 0) got += static_cast<std::size_t>(n);
  }
  std::memcpy(&key.seed, bytes, 4);
  std::memcpy(&key.multiplier, bytes + 4, 4);
  key.multiplier |= 1;  // odd: a bijection, every octet keeps its weight
  std::memcpy(key.mask.data(), bytes + 8, kSteeredNameOctets);
  return key;
}

std::vector<sock_filter> QuestionSteeringProgram(std::uint32_t sockets, const SteeringKey& key,
                                                 std::span<const std::uint32_t> spread) {
  if (spread.size() > kMaxSpreadNames) spread = spread.first(kMaxSpreadNames);
  // Conditional jumps reach at most 255 instructions ahead, so each octet's block leaves
  // through an unconditional jump (32-bit offset) to the shared endings; they are patched
  // once the endings' positions are known. The hash lives in X, A is the scratch.
  std::vector<sock_filter> p;
  std::vector<std::size_t> to_kernel;
  std::vector<std::size_t> to_done;
  p.push_back(Stmt(BPF_LDX | BPF_W | BPF_IMM, key.seed));
  for (std::uint32_t i = 0; i < kSteeredNameOctets; ++i) {
    const std::uint32_t offset = kNameOffset + i;
    p.push_back(Stmt(BPF_LD | BPF_W | BPF_LEN, 0));              // A = payload length
    p.push_back(Jump(BPF_JMP | BPF_JGT | BPF_K, offset, 1, 0));  // octet present?
    to_kernel.push_back(p.size());
    p.push_back(Stmt(BPF_JMP | BPF_JA, 0));                 // no: the name never ends
    p.push_back(Stmt(BPF_LD | BPF_B | BPF_ABS, offset));    // A = octet
    p.push_back(Jump(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1));  // the end of the name?
    to_done.push_back(p.size());
    p.push_back(Stmt(BPF_JMP | BPF_JA, 0));
    p.push_back(Stmt(BPF_ALU | BPF_OR | BPF_K, 0x20));
    p.push_back(Stmt(BPF_ALU | BPF_XOR | BPF_K, key.mask[i]));
    p.push_back(Stmt(BPF_ALU | BPF_ADD | BPF_X, 0));
    p.push_back(Stmt(BPF_ALU | BPF_MUL | BPF_K, key.multiplier));
    p.push_back(Stmt(BPF_MISC | BPF_TAX, 0));
  }
  // 64 octets without a zero: a long name, hashed by its prefix.
  const std::size_t done = p.size();
  p.push_back(Stmt(BPF_MISC | BPF_TXA, 0));
  p.push_back(Stmt(BPF_ALU | BPF_RSH | BPF_K, 16));
  p.push_back(Stmt(BPF_ALU | BPF_XOR | BPF_X, 0));  // h ^= h >> 16
  p.push_back(Stmt(BPF_ALU | BPF_MUL | BPF_K, kMix));
  p.push_back(Stmt(BPF_MISC | BPF_TAX, 0));
  p.push_back(Stmt(BPF_ALU | BPF_RSH | BPF_K, 16));
  p.push_back(Stmt(BPF_ALU | BPF_XOR | BPF_X, 0));
  // A spread name jumps past the modulo and its return, to the kernel's choice.
  for (std::size_t i = 0; i < spread.size(); ++i) {
    p.push_back(Jump(BPF_JMP | BPF_JEQ | BPF_K, spread[i],
                     static_cast<std::uint8_t>(spread.size() - i + 1), 0));
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
                                                  const SteeringKey& key) noexcept {
  std::uint32_t h = key.seed;
  for (std::size_t i = 0; i < kSteeredNameOctets; ++i) {
    const std::size_t offset = kNameOffset + i;
    if (offset >= datagram.size()) return std::nullopt;
    const std::uint8_t octet = datagram[offset];
    if (octet == 0) break;
    h = (h + ((octet | 0x20u) ^ key.mask[i])) * key.multiplier;
  }
  return Mix(h);
}

std::uint32_t QuestionSteeringIndex(std::span<const std::uint8_t> datagram, std::uint32_t sockets,
                                    const SteeringKey& key,
                                    std::span<const std::uint32_t> spread) noexcept {
  const std::optional<std::uint32_t> h = QuestionSteeringHash(datagram, key);
  if (!h) return kSteerByKernel;
  if (spread.size() > kMaxSpreadNames) spread = spread.first(kMaxSpreadNames);
  for (std::uint32_t hot : spread) {
    if (hot == *h) return kSteerByKernel;
  }
  return *h % (sockets == 0 ? 1 : sockets);
}

absl::Status SteerByQuestion(int fd, std::uint32_t sockets, const SteeringKey& key,
                             std::span<const std::uint32_t> spread) {
  const std::vector<sock_filter> program = QuestionSteeringProgram(sockets, key, spread);
  return AttachSteering(fd, program);
}

void DetachSteering(int fd) noexcept {
  const int unused = 0;
  ::setsockopt(fd, SOL_SOCKET, SO_DETACH_REUSEPORT_BPF, &unused, sizeof(unused));
}

absl::Status AttachSteering(int fd, std::span<const sock_filter> program) {
  sock_fprog prog{static_cast<unsigned short>(program.size()),
                  const_cast<sock_filter*>(program.data())};
  if (::setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof(prog)) != 0) {
    const int error = errno;
    return absl::UnavailableError(
        absl::StrCat("SO_ATTACH_REUSEPORT_CBPF: ", std::strerror(error),
                     error == ENOMEM ? " (net.core.optmem_max is too small)" : ""));
  }
  return absl::OkStatus();
}

}  // namespace ringdns::core
