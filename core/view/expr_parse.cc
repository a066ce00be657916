// The view expression compiler: a tokenizer and a precedence-climbing parser that
// type-checks as it builds the node array (core/view/expr.h). Precedences follow
// expr-lang: or < and < comparison (== != < <= > >= in matches) < unary (! not).
#include <arpa/inet.h>

#include <cstring>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "core/view/expr.h"
#include "core/view/expr_lexer.h"
#include "re2/re2.h"

namespace ringdns::core::view {

namespace {

constexpr std::uint32_t kMaxHeight = 128;  // evaluation recurses once per level
constexpr std::size_t kMaxNodes = 4096;

using internal::Lexer;
using internal::Tok;
using internal::Token;

struct FunctionInfo {
  absl::string_view name;
  Fn fn;
  Type result;
  int arity;
};

constexpr FunctionInfo kFunctions[] = {
    {"name", Fn::kName, Type::kString, 0},
    {"type", Fn::kType, Type::kString, 0},
    {"class", Fn::kClass, Type::kString, 0},
    {"client_ip", Fn::kClientIp, Type::kString, 0},
    {"server_ip", Fn::kServerIp, Type::kString, 0},
    {"port", Fn::kPort, Type::kString, 0},
    {"server_port", Fn::kServerPort, Type::kString, 0},
    {"proto", Fn::kProto, Type::kString, 0},
    {"bufsize", Fn::kBufsize, Type::kInt, 0},
    {"do", Fn::kDo, Type::kBool, 0},
    {"size", Fn::kSize, Type::kInt, 0},
    {"opcode", Fn::kOpcode, Type::kInt, 0},
    {"id", Fn::kId, Type::kInt, 0},
    {"incidr", Fn::kInCidr, Type::kBool, 2},
};

absl::string_view TypeText(Type t) {
  switch (t) {
    case Type::kBool: return "bool";
    case Type::kInt: return "int";
    case Type::kString: return "string";
  }
  return "?";
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

std::string_view ViewFunctions() noexcept {
  return "bufsize, class, client_ip, do, id, incidr, name, opcode, port, proto, server_ip, "
         "server_port, size, type";
}

// Parses one expression; the first error wins and stops it.
class Parser {
 public:
  Parser(std::string_view src, Program& p)
      : lexer_(absl::string_view(src.data(), src.size())), p_(p) {}

  bool Run() {
    Next();
    const std::optional<std::uint32_t> root = Expression(0);
    if (!root || !error.message.empty()) return false;
    if (tok_.kind != Tok::kEnd)
      return Fail(tok_.column,
                  absl::StrCat("expected an operator or the end, found ", Describe(tok_)));
    if (p_.nodes_[*root].type != Type::kBool) {
      return Fail(
          1, absl::StrCat("expected a bool expression, found ", TypeText(p_.nodes_[*root].type)));
    }
    p_.root_ = *root;
    return true;
  }
  CompileError error;

 private:
  bool Fail(int column, std::string message) {
    if (error.message.empty()) error = {column, std::move(message)};
    tok_ = Token{};
    return false;
  }
  static std::string Describe(const Token& t) {
    switch (t.kind) {
      case Tok::kEnd: return "the end";
      case Tok::kString: return absl::StrCat("string '", t.value, "'");
      case Tok::kInt: return absl::StrCat("number ", t.number);
      default: return absl::StrCat("'", t.text, "'");
    }
  }

  void Next() {
    lexer_.Next();
    tok_ = lexer_.token();
    if (!lexer_.error().message.empty()) Fail(lexer_.error().column, lexer_.error().message);
  }

  // A list's separator: a comma, else an error naming the closing bracket too.
  bool Comma(absl::string_view closing) {
    if (tok_.kind != Tok::kComma)
      return Fail(tok_.column,
                  absl::StrCat("expected ',' or '", closing, "', found ", Describe(tok_)));
    Next();
    return true;
  }
  bool TooDeep(int column) {
    return Fail(column, absl::StrCat("expression nests too deeply, expected at most ", kMaxHeight,
                                     " levels"));
  }
  // One level deeper into parentheses, a call's arguments or a unary operator.
  bool Deeper(int column) { return ++depth_ <= kMaxHeight || TooDeep(column); }

  std::optional<std::uint32_t> Add(Node n, std::uint32_t height, int column) {
    if (height > kMaxHeight) {
      TooDeep(column);
      return std::nullopt;
    }
    if (p_.nodes_.size() >= kMaxNodes) {
      Fail(column, absl::StrCat("expression too long, expected at most ", kMaxNodes,
                                " operands and operators"));
      return std::nullopt;
    }
    p_.nodes_.push_back(n);
    heights_.push_back(height);
    return static_cast<std::uint32_t>(p_.nodes_.size() - 1);
  }
  std::uint32_t Height(std::uint32_t node) const { return heights_[node]; }
  Type TypeOf(std::uint32_t node) const { return p_.nodes_[node].type; }

  // Binary precedence of the current token; 0 when it is no binary operator.
  int Precedence() const {
    if (tok_.kind != Tok::kOp) return 0;
    const absl::string_view t = tok_.text;
    if (t == "||" || t == "or") return 1;
    if (t == "&&" || t == "and") return 2;
    if (t == "==" || t == "!=" || t == "<" || t == "<=" || t == ">" || t == ">=" || t == "in" ||
        t == "matches" || t == "not" || t == "contains" || t == "startsWith" || t == "endsWith") {
      return 3;
    }
    return 0;
  }

  std::optional<std::uint32_t> Expression(int min_precedence) {
    std::optional<std::uint32_t> left = Unary();
    while (left) {
      const int prec = Precedence();
      if (prec == 0 || prec <= min_precedence) break;
      const Token op = tok_;
      Next();
      bool negate = false;
      absl::string_view name = op.text;
      if (name == "not") {  // `not in`, `not matches`
        if (tok_.kind != Tok::kOp || (tok_.text != "in" && tok_.text != "matches")) {
          Fail(tok_.column,
               absl::StrCat("expected 'in' or 'matches' after 'not', found ", Describe(tok_)));
          return std::nullopt;
        }
        negate = true;
        name = tok_.text;
        Next();
      }
      if (name == "in") {
        left = In(*left, op.column, negate);
        continue;
      }
      if (name == "matches") {
        left = Matches(*left, op.column, negate);
        continue;
      }
      const int right_column = tok_.column;
      const std::optional<std::uint32_t> right = Expression(prec);
      if (!right) return std::nullopt;
      left = Binary(name, op.column, *left, *right, right_column);
    }
    return left;
  }

  std::optional<std::uint32_t> Binary(absl::string_view name, int column, std::uint32_t l,
                                      std::uint32_t r, int right_column) {
    Node n;
    n.a = l;
    n.b = r;
    n.type = Type::kBool;
    const Type lt = TypeOf(l), rt = TypeOf(r);
    if (name == "&&" || name == "and" || name == "||" || name == "or") {
      n.op = (name == "&&" || name == "and") ? Op::kAnd : Op::kOr;
      if (lt != Type::kBool || rt != Type::kBool) {
        Fail(lt != Type::kBool ? column : right_column,
             absl::StrCat("'", name, "' expected bool operands, found ", TypeText(lt), " and ",
                          TypeText(rt)));
        return std::nullopt;
      }
    } else {
      if (lt != rt) {
        Fail(column, absl::StrCat("mismatched types ", TypeText(lt), " and ", TypeText(rt),
                                  " for '", name, "', expected the same type on both sides"));
        return std::nullopt;
      }
      if (name == "==")
        n.op = Op::kEq;
      else if (name == "!=")
        n.op = Op::kNe;
      else if (name == "contains" || name == "startsWith" || name == "endsWith") {
        if (lt != Type::kString) {
          Fail(column, absl::StrCat("'", name, "' expected string operands, found ", TypeText(lt)));
          return std::nullopt;
        }
        n.op = name == "contains"     ? Op::kContains
               : name == "startsWith" ? Op::kStartsWith
                                      : Op::kEndsWith;
      } else {
        if (lt != Type::kInt) {
          Fail(column, absl::StrCat("'", name, "' expected int operands, found ", TypeText(lt)));
          return std::nullopt;
        }
        n.op = name == "<" ? Op::kLt : name == "<=" ? Op::kLe : name == ">" ? Op::kGt : Op::kGe;
      }
    }
    return Add(n, std::max(Height(l), Height(r)) + 1, column);
  }

  std::optional<std::uint32_t> In(std::uint32_t left, int column, bool negate) {
    if (tok_.kind != Tok::kLBracket) {
      Fail(tok_.column, absl::StrCat("expected '[' after 'in', found ", Describe(tok_)));
      return std::nullopt;
    }
    Next();
    const Type want = TypeOf(left);
    if (want == Type::kBool) {
      Fail(column, "'in' expected an int or string on its left, found bool");
      return std::nullopt;
    }
    std::vector<std::uint32_t> items;
    while (tok_.kind != Tok::kRBracket) {
      if (!items.empty() && !Comma("]")) return std::nullopt;
      const int item_column = tok_.column;
      const std::optional<std::uint32_t> item = Literal();
      if (!item) return std::nullopt;
      if (TypeOf(*item) != want) {
        Fail(item_column, absl::StrCat("expected a ", TypeText(want),
                                       " literal in the list, found ", TypeText(TypeOf(*item))));
        return std::nullopt;
      }
      items.push_back(*item);
    }
    Next();
    // The list's items are literals, laid out contiguously after their node indices.
    Node n;
    n.op = Op::kIn;
    n.type = Type::kBool;
    n.negate = negate;
    n.a = left;
    n.first = items.empty() ? 0 : items.front();
    n.count = static_cast<std::uint32_t>(items.size());
    return Add(n, Height(left) + 1, column);
  }

  std::optional<std::uint32_t> Matches(std::uint32_t left, int column, bool negate) {
    if (TypeOf(left) != Type::kString) {
      Fail(column,
           absl::StrCat("'matches' expected a string on its left, found ", TypeText(TypeOf(left))));
      return std::nullopt;
    }
    if (tok_.kind != Tok::kString) {
      Fail(tok_.column, absl::StrCat("expected a string literal pattern after 'matches', found ",
                                     Describe(tok_)));
      return std::nullopt;
    }
    auto re = std::make_unique<re2::RE2>(tok_.value, re2::RE2::Quiet);
    if (!re->ok()) {
      Fail(tok_.column,
           absl::StrCat("invalid regular expression: ", re->error(), ", expected RE2 syntax"));
      return std::nullopt;
    }
    Next();
    Node n;
    n.op = Op::kMatches;
    n.type = Type::kBool;
    n.negate = negate;
    n.a = left;
    n.first = static_cast<std::uint32_t>(p_.regexes_.size());
    p_.regexes_.push_back(std::move(re));
    return Add(n, Height(left) + 1, column);
  }

  std::optional<std::uint32_t> Literal() {
    Node n;
    const int column = tok_.column;
    if (tok_.kind == Tok::kInt) {
      n.op = Op::kInt;
      n.type = Type::kInt;
      n.number = tok_.number;
    } else if (tok_.kind == Tok::kString) {
      n.op = Op::kString;
      n.type = Type::kString;
      n.first = static_cast<std::uint32_t>(p_.text_.size());
      n.count = static_cast<std::uint32_t>(tok_.value.size());
      p_.text_ += tok_.value;
    } else if (tok_.kind == Tok::kIdent && (tok_.text == "true" || tok_.text == "false")) {
      n.op = Op::kBool;
      n.type = Type::kBool;
      n.number = tok_.text == "true" ? 1 : 0;
    } else {
      Fail(column, absl::StrCat("expected a literal (a string, a number, true or false), found ",
                                Describe(tok_)));
      return std::nullopt;
    }
    Next();
    return Add(n, 1, column);
  }

  std::optional<std::uint32_t> Unary() {
    const int column = tok_.column;
    if (tok_.kind == Tok::kOp && (tok_.text == "!" || tok_.text == "not")) {
      Next();
      if (!Deeper(column)) return std::nullopt;
      const std::optional<std::uint32_t> operand = Unary();
      --depth_;
      if (!operand) return std::nullopt;
      if (TypeOf(*operand) != Type::kBool) {
        Fail(column,
             absl::StrCat("'!' expected a bool operand, found ", TypeText(TypeOf(*operand))));
        return std::nullopt;
      }
      Node n;
      n.op = Op::kNot;
      n.a = *operand;
      return Add(n, Height(*operand) + 1, column);
    }
    return Primary();
  }

  std::optional<std::uint32_t> Primary() {
    const int column = tok_.column;
    if (tok_.kind == Tok::kLParen) {
      Next();
      if (!Deeper(column)) return std::nullopt;
      const std::optional<std::uint32_t> inner = Expression(0);
      --depth_;
      if (!inner) return std::nullopt;
      if (tok_.kind != Tok::kRParen) {
        Fail(tok_.column, absl::StrCat("expected ')', found ", Describe(tok_)));
        return std::nullopt;
      }
      Next();
      return inner;
    }
    if (tok_.kind == Tok::kIdent && tok_.text != "true" && tok_.text != "false") return Call();
    if (tok_.kind == Tok::kInt || tok_.kind == Tok::kString || tok_.kind == Tok::kIdent)
      return Literal();
    Fail(column, absl::StrCat("expected an operand (a function call, a literal or '('), found ",
                              Describe(tok_)));
    return std::nullopt;
  }

  std::optional<std::uint32_t> Call() {
    const Token name = tok_;
    const FunctionInfo* info = nullptr;
    for (const FunctionInfo& f : kFunctions) {
      if (f.name == name.text) info = &f;
    }
    if (info == nullptr) {
      Fail(name.column,
           absl::StrCat("unknown function '", name.text, "', expected one of ",
                        absl::string_view(ViewFunctions().data(), ViewFunctions().size())));
      return std::nullopt;
    }
    Next();
    if (tok_.kind != Tok::kLParen) {
      Fail(tok_.column, absl::StrCat("expected '(' after ", name.text, ", found ", Describe(tok_)));
      return std::nullopt;
    }
    Next();
    std::vector<std::uint32_t> args;
    std::vector<int> columns;
    while (tok_.kind != Tok::kRParen) {
      if (!args.empty() && !Comma(")")) return std::nullopt;
      columns.push_back(tok_.column);
      if (!Deeper(tok_.column)) return std::nullopt;
      const std::optional<std::uint32_t> arg = Expression(0);
      --depth_;
      if (!arg) return std::nullopt;
      args.push_back(*arg);
    }
    if (static_cast<int>(args.size()) != info->arity) {
      Fail(name.column, absl::StrCat(name.text, "() takes ", info->arity, " argument",
                                     info->arity == 1 ? "" : "s", ", found ", args.size()));
      return std::nullopt;
    }
    Next();
    Node n;
    n.op = Op::kCall;
    n.fn = info->fn;
    n.type = info->result;
    std::uint32_t height = 1;
    if (info->fn == Fn::kInCidr) {
      for (std::size_t i = 0; i < 2; ++i) {
        if (TypeOf(args[i]) != Type::kString) {
          Fail(columns[i], absl::StrCat("incidr() expected a string argument, found ",
                                        TypeText(TypeOf(args[i]))));
          return std::nullopt;
        }
      }
      n.a = args[0];
      n.b = args[1];
      height = std::max(Height(args[0]), Height(args[1])) + 1;
      const Node& cidr = p_.nodes_[args[1]];
      if (cidr.op == Op::kString &&
          !CompileCidr(absl::string_view(p_.text_).substr(cidr.first, cidr.count), n)) {
        Fail(columns[1],
             "invalid CIDR, expected an address and a prefix length such as '10.0.0.0/8' or "
             "'fd00::/8'");
        return std::nullopt;
      }
    }
    return Add(n, height, name.column);
  }

  static bool CompileCidr(absl::string_view text, Node& n) {
    const std::size_t slash = text.find('/');
    if (slash == absl::string_view::npos || slash >= 64) return false;
    char address[64] = {};
    std::memcpy(address, text.data(), slash);
    const absl::string_view len_text = text.substr(slash + 1);
    if (len_text.empty() || len_text.size() > 3) return false;
    int len = 0;
    for (char c : len_text) {
      if (!IsDigit(c)) return false;
      len = len * 10 + (c - '0');
    }
    if (inet_pton(AF_INET, address, n.cidr_bytes) == 1) {
      n.cidr_family = AF_INET;
      if (len > 32) return false;
    } else if (inet_pton(AF_INET6, address, n.cidr_bytes) == 1) {
      n.cidr_family = AF_INET6;
      if (len > 128) return false;
    } else {
      return false;
    }
    n.cidr_length = len;
    n.cidr_literal = true;
    return true;
  }

  Lexer lexer_;
  Program& p_;
  Token tok_;
  std::vector<std::uint32_t> heights_;
  std::uint32_t depth_ = 0;
};

Program::Program() = default;
Program::~Program() = default;
Program::Program(Program&&) noexcept = default;
Program& Program::operator=(Program&&) noexcept = default;

absl::StatusOr<Program> Program::Compile(std::string_view source, CompileError* error) {
  Program p;
  p.source_ = std::string(source);
  Parser parser(p.source_, p);
  if (!parser.Run()) {
    if (error != nullptr) *error = parser.error;
    return absl::InvalidArgumentError(
        absl::StrCat("column ", parser.error.column, ": ", parser.error.message));
  }
  return p;
}

}  // namespace ringdns::core::view
