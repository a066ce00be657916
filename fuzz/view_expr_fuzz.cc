// Fuzzes the view expression compiler and evaluator (core/view/expr.h) on any text.
// Properties: compiling never crashes and an error names a column inside the text (or
// just past it); a compiled expression evaluates on IPv4 and IPv6 queries over UDP and
// TCP, and its negation `!(E)` gives the opposite answer and `(E) && (E)` the same one,
// whenever those compile (they nest two levels deeper).
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/view/expr.h"
#include "fuzz_check.h"

using namespace ringdns::core;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // The first octet chooses the query's facts; the rest is the expression.
  if (size < 1) return 0;
  const std::uint8_t facts = data[0];
  const std::string source(reinterpret_cast<const char*>(data + 1), size - 1);
  view::CompileError error;
  const absl::StatusOr<view::Program> program = view::Program::Compile(source, &error);
  if (!program.ok()) {
    FUZZ_CHECK(error.column >= 1 && static_cast<std::size_t>(error.column) <= source.size() + 1);
    FUZZ_CHECK(!error.message.empty());
    return 0;
  }
  sockaddr_in v4{};
  v4.sin_family = AF_INET;
  v4.sin_port = htons(53000);
  v4.sin_addr.s_addr = htonl(0x0a000001u + facts);
  sockaddr_in6 v6{};
  v6.sin6_family = AF_INET6;
  v6.sin6_port = htons(5353);
  v6.sin6_addr.s6_addr[0] = 0xfd;
  v6.sin6_addr.s6_addr[15] = facts;
  const std::vector<std::uint8_t> qname = {3,   'W', 'w', 'w', 7,   'e', 'x',
                                           'a', 'm', 'p', 'l', 'e', 0};
  view::Request request{.qname = qname,
                        .qtype = static_cast<std::uint16_t>(facts % 3 == 0 ? 1 : facts),
                        .qclass = static_cast<std::uint16_t>(facts & 1 ? 1 : 3),
                        .id = static_cast<std::uint16_t>(facts * 257),
                        .opcode = static_cast<std::uint8_t>(facts & 15),
                        .tcp = (facts & 2) != 0,
                        .do_bit = (facts & 4) != 0,
                        .has_opt = (facts & 8) != 0,
                        .opt_udp_size = static_cast<std::uint16_t>(facts * 16),
                        .size = facts,
                        .client = (facts & 16) != 0 ? reinterpret_cast<const sockaddr*>(&v6)
                                                    : reinterpret_cast<const sockaddr*>(&v4),
                        .server = reinterpret_cast<const sockaddr*>(&v4)};
  const bool value = program->Evaluate(request);
  FUZZ_CHECK(program->Evaluate(request) == value);  // no state kept between evaluations
  if (const absl::StatusOr<view::Program> negated = view::Program::Compile("!(" + source + ")");
      negated.ok()) {
    FUZZ_CHECK(negated->Evaluate(request) == !value);
  }
  if (const absl::StatusOr<view::Program> both =
          view::Program::Compile("(" + source + ") && (" + source + ")");
      both.ok()) {
    FUZZ_CHECK(both->Evaluate(request) == value);
  }
  return 0;
}
