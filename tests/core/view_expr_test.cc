// CoreDNS's view expressions without a socket: every function and operator evaluated on
// a query, and compile errors at their exact columns.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <string>

#include "core/view/expr.h"
#include "testing/message_builder.h"

namespace ringdns::core::view {
namespace {

using testing::Bytes;
using testing::WireName;

struct Query {
  Bytes qname = WireName("Www.Example.COM.");
  sockaddr_in client{};
  sockaddr_in server{};
  sockaddr_in6 client6{};
  Request request;

  Query() {
    client.sin_family = AF_INET;
    client.sin_port = htons(40000);
    inet_pton(AF_INET, "10.1.2.3", &client.sin_addr);
    server.sin_family = AF_INET;
    server.sin_port = htons(5353);
    inet_pton(AF_INET, "127.0.0.53", &server.sin_addr);
    client6.sin6_family = AF_INET6;
    client6.sin6_port = htons(5000);
    inet_pton(AF_INET6, "fd00::7", &client6.sin6_addr);
    request = Request{.qname = qname,
                      .qtype = 28,
                      .qclass = 1,
                      .id = 4660,
                      .opcode = 0,
                      .tcp = false,
                      .do_bit = true,
                      .has_opt = true,
                      .opt_udp_size = 1232,
                      .size = 44,
                      .client = reinterpret_cast<const sockaddr*>(&client),
                      .server = reinterpret_cast<const sockaddr*>(&server)};
  }
};

bool Eval(const std::string& source, const Request& request) {
  absl::StatusOr<Program> p = Program::Compile(source);
  EXPECT_TRUE(p.ok()) << source << ": " << p.status();
  return p.ok() && p->Evaluate(request);
}

bool Eval(const std::string& source) { return Eval(source, Query().request); }

CompileError ErrorOf(const std::string& source) {
  CompileError error;
  EXPECT_FALSE(Program::Compile(source, &error).ok()) << source;
  return error;
}

TEST(ViewExpr, EveryFunctionReadsItsFact) {
  EXPECT_TRUE(Eval("name() == 'www.example.com.'"));  // lower case, as CoreDNS's name()
  EXPECT_TRUE(Eval("type() == 'AAAA'"));
  EXPECT_TRUE(Eval("class() == 'IN'"));
  EXPECT_TRUE(Eval("client_ip() == '10.1.2.3'"));
  EXPECT_TRUE(Eval("server_ip() == '127.0.0.53'"));
  EXPECT_TRUE(Eval("port() == '40000'"));
  EXPECT_TRUE(Eval("server_port() == '5353'"));
  EXPECT_TRUE(Eval("proto() == 'udp'"));
  EXPECT_TRUE(Eval("bufsize() == 1232"));
  EXPECT_TRUE(Eval("do()"));
  EXPECT_TRUE(Eval("size() == 44"));
  EXPECT_TRUE(Eval("opcode() == 0"));
  EXPECT_TRUE(Eval("id() == 4660"));
  EXPECT_TRUE(Eval("incidr(client_ip(), '10.0.0.0/8')"));
  EXPECT_FALSE(Eval("incidr(client_ip(), '10.2.0.0/16')"));
  EXPECT_FALSE(Eval("type() == 'A'"));
}

TEST(ViewExpr, FactsThatDependOnTheTransportAndFamily) {
  Query q;
  q.request.tcp = true;
  q.request.do_bit = false;
  EXPECT_TRUE(Eval("proto() == 'tcp'", q.request));
  EXPECT_TRUE(Eval("bufsize() == 65535", q.request));  // CoreDNS's request.Size() over TCP
  EXPECT_TRUE(Eval("!do()", q.request));
  q.request.tcp = false;
  q.request.has_opt = false;
  EXPECT_TRUE(Eval("bufsize() == 512", q.request));
  q.request.client = reinterpret_cast<const sockaddr*>(&q.client6);
  EXPECT_TRUE(Eval("client_ip() == '[fd00::7]'", q.request));  // brackets, as CoreDNS
  EXPECT_TRUE(Eval("incidr(client_ip(), 'fd00::/8')", q.request));
  EXPECT_FALSE(Eval("incidr(client_ip(), '10.0.0.0/8')", q.request));
  EXPECT_TRUE(Eval("incidr('[fd00::7]', 'fd00::/120')", q.request));
  EXPECT_TRUE(Eval("incidr('192.168.1.9', '192.168.1.8/29')", q.request));
  EXPECT_FALSE(Eval("incidr('192.168.1.9', '192.168.1.0/29')", q.request));
  EXPECT_FALSE(Eval("incidr('not an address', '192.168.1.0/24')", q.request));
  // A CIDR that is not a literal is read per query; a bad one matches nothing.
  EXPECT_FALSE(Eval("incidr(server_ip(), name())", q.request));
}

TEST(ViewExpr, Operators) {
  EXPECT_TRUE(Eval("type() != 'A'"));
  EXPECT_TRUE(Eval("type() in ['A', 'AAAA']"));
  EXPECT_FALSE(Eval("type() in ['A', 'MX']"));
  EXPECT_TRUE(Eval("type() not in ['A', 'MX']"));
  EXPECT_FALSE(Eval("type() in []"));
  EXPECT_TRUE(Eval("id() in [1, 4660]"));
  EXPECT_TRUE(Eval("name() matches '^www\\\\.example\\\\.com\\\\.$'"));
  EXPECT_TRUE(Eval("name() matches 'example'"));  // a partial match, as Go's MatchString
  EXPECT_FALSE(Eval("name() matches '^example'"));
  EXPECT_TRUE(Eval("name() not matches '^example'"));
  EXPECT_TRUE(Eval("type() == 'AAAA' && do()"));
  EXPECT_FALSE(Eval("type() == 'A' && do()"));
  EXPECT_TRUE(Eval("type() == 'A' || do()"));
  EXPECT_FALSE(Eval("type() == 'A' || !do()"));
  EXPECT_TRUE(Eval("type() == 'AAAA' and not (proto() == 'tcp') or false"));
  EXPECT_TRUE(Eval("false || true && true"));  // && binds tighter
  EXPECT_FALSE(Eval("(false || true) && false"));
  EXPECT_TRUE(Eval("!!true"));
  EXPECT_TRUE(Eval("size() < 45 && size() <= 44 && size() > 43 && size() >= 44"));
  EXPECT_FALSE(Eval("size() > 44"));
  EXPECT_TRUE(Eval("\"a'b\" == 'a\\'b'"));
  EXPECT_TRUE(Eval("do() == true"));
  EXPECT_TRUE(Eval(
      "name() endsWith '.example.com.' && name() startsWith 'www.' && name() contains 'ample'"));
  EXPECT_FALSE(Eval("name() endsWith '.example.org.'"));
  EXPECT_FALSE(Eval("name() startsWith 'example'"));
  EXPECT_FALSE(Eval("name() contains 'xyz'"));
}

TEST(ViewExpr, CoreDnsReadmeExamples) {
  EXPECT_TRUE(Eval("incidr(client_ip(), '10.0.0.0/8')"));
  EXPECT_TRUE(Eval("type() in ['A', 'AAAA']"));
  EXPECT_TRUE(
      Eval("(type() == 'AAAA' && name() == 'www.example.com.') || client_ip() == '1.2.3.4'"));
}

TEST(ViewExpr, ErrorsNameTheirColumn) {
  struct Case {
    const char* source;
    int column;
    const char* says;
  };
  const Case cases[] = {
      {"nosuch() == 'a'", 1, "unknown function 'nosuch'"},
      {"type(1) == 'A'", 1, "type() takes 0 arguments, found 1"},
      {"incidr(client_ip())", 1, "incidr() takes 2 arguments, found 1"},
      {"type() == 1", 8, "mismatched types string and int"},
      {"type() == 'A' &&", 17, "expected an operand"},
      {"type() == 'A", 11, "unterminated string"},
      {"(type() == 'A'", 15, "expected ')'"},
      {"type()", 1, "expected a bool expression, found string"},
      {"type() in 'A'", 11, "expected '[' after 'in'"},
      {"type() in ['A', 2]", 17, "expected a string literal in the list, found int"},
      {"name() matches '('", 16, "invalid regular expression"},
      {"name() matches type()", 16, "expected a string literal pattern"},
      {"incidr(client_ip(), '10.0.0.0/33')", 21, "invalid CIDR"},
      {"incidr(1, '10.0.0.0/8')", 8, "incidr() expected a string argument, found int"},
      {"!type()", 1, "'!' expected a bool operand"},
      {"do() && size()", 9, "expected bool operands"},
      {"type() < 'A'", 8, "'<' expected int operands"},
      {"type() == 'A' $", 15, "unexpected character '$'"},
      {"type() == 'A' type()", 15, "expected an operator or the end"},
      {"name() not == 'a'", 12, "expected 'in' or 'matches' after 'not'"},
      {"'a\\q' == 'a'", 3, "unknown escape"},
      {"metadata('view/name') == 'x'", 1, "unknown function 'metadata'"},
      {"", 1, "expected an operand"},
      {"size() contains 4", 8, "'contains' expected string operands, found int"},
      {"name() endsWith 4", 8, "mismatched types string and int"},
  };
  for (const Case& c : cases) {
    const CompileError e = ErrorOf(c.source);
    EXPECT_EQ(e.column, c.column) << c.source << ": " << e.message;
    EXPECT_NE(e.message.find(c.says), std::string::npos) << c.source << ": " << e.message;
  }
}

TEST(ViewExpr, DeepNestingIsAnErrorNotACrash) {
  std::string deep(1000, '(');
  deep += "true";
  deep += std::string(1000, ')');
  EXPECT_NE(ErrorOf(deep).message.find("nests too deeply"), std::string::npos);
  std::string chain = "true";
  for (int i = 0; i < 500; ++i) chain += " || true";
  EXPECT_NE(ErrorOf(chain).message.find("nests too deeply"), std::string::npos);
  std::string nots(1000, '!');
  EXPECT_NE(ErrorOf(nots + "true").message.find("nests too deeply"), std::string::npos);
}

}  // namespace
}  // namespace ringdns::core::view
