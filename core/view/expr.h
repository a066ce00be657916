// core/view/expr.h: CoreDNS's `view` expressions (the expr-lang subset its README uses),
// compiled once into a flat array of typed nodes and evaluated per query.
//
// Syntax: string literals ('x' or "x", with \\ \' \" \n \t escapes), integer literals,
// true, false, parentheses, the functions of ViewFunctions() (name(), type(), class(),
// client_ip(), server_ip(), port(), server_port(), proto(), bufsize(), do(), size(),
// opcode(), id(), incidr(IP, CIDR)), the operators ! not && and || or == != < <= > >=,
// `in [...]` over literals, `matches 'RE2'` (a partial match, as Go's MatchString), and
// `not in`, `not matches`, and the string operators contains, startsWith and endsWith.
// Every operand is type-checked when compiled: an unknown
// function, a wrong arity or mismatched types is a compile error with its column.
//
// Compile runs on the control thread and allocates. A Program is then immutable and may
// be evaluated by every shard at once: Evaluate never allocates and takes no lock of its
// own (RE2's DFA cache takes a reader lock, as for template and rewrite).
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace re2 {
class RE2;
}

namespace ringdns::core::view {

// What an expression may ask of one query; every field is read only when a function
// needs it. The pointers must stay valid during Evaluate.
struct Request {
  std::span<const std::uint8_t> qname;  // uncompressed wire form
  std::uint16_t qtype = 0;
  std::uint16_t qclass = 0;
  std::uint16_t id = 0;
  std::uint8_t opcode = 0;
  bool tcp = false;
  bool do_bit = false;
  bool has_opt = false;
  std::uint16_t opt_udp_size = 0;  // the OPT's UDP payload size (when has_opt)
  std::uint32_t size = 0;          // the query's length in bytes
  const sockaddr* client = nullptr;
  const sockaddr* server = nullptr;  // the address the query came to
};

// Where and why an expression failed to compile; column is 1-based within the source.
struct CompileError {
  int column = 0;
  std::string message;
};

enum class Type : std::uint8_t { kBool, kInt, kString };

enum class Fn : std::uint8_t {
  kName,
  kType,
  kClass,
  kClientIp,
  kServerIp,
  kPort,
  kServerPort,
  kProto,
  kBufsize,
  kDo,
  kSize,
  kOpcode,
  kId,
  kInCidr,
};

enum class Op : std::uint8_t {
  kBool,
  kInt,
  kString,  // literals
  kCall,    // a DNS function (no arguments) or incidr (a, b)
  kNot,
  kAnd,
  kOr,
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kIn,       // a in list[first, first + count)
  kMatches,  // a matches regexes[index]
  kContains,
  kStartsWith,
  kEndsWith,  // string a holds, starts or ends with string b
};

// One node of the compiled expression. Children come before their parent.
struct Node {
  Op op = Op::kBool;
  Type type = Type::kBool;
  Fn fn = Fn::kName;
  bool negate = false;      // `not in`, `not matches`
  std::uint32_t a = 0;      // first operand (node index)
  std::uint32_t b = 0;      // second operand (node index)
  std::int64_t number = 0;  // kInt literal, kBool literal (0/1)
  std::uint32_t first = 0;  // kString: offset into text; kIn: first list node; kMatches: regex
  std::uint32_t count = 0;  // kString: length; kIn: list length
  // incidr with a literal CIDR: the prefix, checked when compiled.
  bool cidr_literal = false;
  int cidr_family = 0;
  std::uint8_t cidr_bytes[16] = {};
  int cidr_length = 0;
};

class Program {
 public:
  Program();
  ~Program();
  Program(Program&&) noexcept;
  Program& operator=(Program&&) noexcept;

  // Compiles `source`; the result must be a bool. Errors name the column and what was
  // expected there.
  static absl::StatusOr<Program> Compile(std::string_view source, CompileError* error = nullptr);

  // The expression's value for `request`. Never allocates.
  bool Evaluate(const Request& request) const noexcept;

  const std::string& source() const noexcept { return source_; }
  std::size_t node_count() const noexcept { return nodes_.size(); }

 private:
  friend class Parser;
  friend class Evaluator;
  std::string source_;
  std::string text_;  // string literals, unescaped, end to end
  std::vector<Node> nodes_;
  std::vector<std::unique_ptr<re2::RE2>> regexes_;
  std::uint32_t root_ = 0;
};

// The function names an expression may call, for error messages.
std::string_view ViewFunctions() noexcept;

}  // namespace ringdns::core::view
