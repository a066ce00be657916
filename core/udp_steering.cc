#include "core/udp_steering.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace ringdns::core {
namespace {

// The question's name starts right after the 12-octet header and is at most 255 octets
// with its final zero (RFC 1035 section 3.1).
constexpr std::uint32_t kNameOffset = 12;
constexpr std::uint32_t kMaxNameOctets = 255;

// h = (h + (octet | 0x20)) * kPrime over the name's octets up to its first zero, then
// mixed so the low bits (the modulo) depend on every octet. OR 0x20 folds A-Z onto a-z
// (and merges a few other octet pairs, which only makes names share a shard). The first
// zero is the root label's for every name in plain text; a name with a zero octet inside
// a label stops there, which is still a function of the name, case-insensitive.
constexpr std::uint32_t kSeed = 0x811c9dc5u;
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

std::vector<sock_filter> QuestionSteeringProgram(std::uint32_t sockets) {
  // Conditional jumps reach at most 255 instructions ahead, so each octet's block leaves
  // through an unconditional jump (32-bit offset) to the shared endings; they are patched
  // once the endings' positions are known. The hash lives in X, A is the scratch.
  std::vector<sock_filter> p;
  std::vector<std::size_t> to_kernel;
  std::vector<std::size_t> to_done;
  p.push_back(Stmt(BPF_LDX | BPF_W | BPF_IMM, kSeed));
  for (std::uint32_t i = 0; i < kMaxNameOctets; ++i) {
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
  // 255 octets without a zero: not a name.
  const std::size_t kernel = p.size();
  p.push_back(Stmt(BPF_RET | BPF_K, kSteerByKernel));
  const std::size_t done = p.size();
  p.push_back(Stmt(BPF_MISC | BPF_TXA, 0));
  p.push_back(Stmt(BPF_ALU | BPF_RSH | BPF_K, 16));
  p.push_back(Stmt(BPF_ALU | BPF_XOR | BPF_X, 0));             // h ^= h >> 16
  p.push_back(Stmt(BPF_ALU | BPF_MUL | BPF_K, kMix));
  p.push_back(Stmt(BPF_MISC | BPF_TAX, 0));
  p.push_back(Stmt(BPF_ALU | BPF_RSH | BPF_K, 16));
  p.push_back(Stmt(BPF_ALU | BPF_XOR | BPF_X, 0));
  p.push_back(Stmt(BPF_ALU | BPF_MOD | BPF_K, sockets == 0 ? 1 : sockets));
  p.push_back(Stmt(BPF_RET | BPF_A, 0));
  for (std::size_t at : to_kernel) p[at].k = static_cast<std::uint32_t>(kernel - at - 1);
  for (std::size_t at : to_done) p[at].k = static_cast<std::uint32_t>(done - at - 1);
  return p;
}

std::uint32_t QuestionSteeringIndex(std::span<const std::uint8_t> datagram, std::uint32_t sockets) noexcept {
  std::uint32_t h = kSeed;
  for (std::uint32_t i = 0; i < kMaxNameOctets; ++i) {
    const std::size_t offset = kNameOffset + i;
    if (offset >= datagram.size()) return kSteerByKernel;
    const std::uint8_t octet = datagram[offset];
    if (octet == 0) return Mix(h) % (sockets == 0 ? 1 : sockets);
    h = (h + (octet | 0x20u)) * kPrime;
  }
  return kSteerByKernel;
}

absl::Status SteerByQuestion(int fd, std::uint32_t sockets) {
  std::vector<sock_filter> program = QuestionSteeringProgram(sockets);
  sock_fprog prog{static_cast<unsigned short>(program.size()), program.data()};
  if (::setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof(prog)) != 0) {
    return absl::UnavailableError(absl::StrCat("SO_ATTACH_REUSEPORT_CBPF: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace ringdns::core
