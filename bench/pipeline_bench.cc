// The cost of each pipeline stage per query (or per answer, for answer hooks), on the
// shard's thread with its own buffers: acl deciding a query that it lets through, any,
// chaos, whoami, template and hosts answering in place, bufsize lowering a query's EDNS size,
// loadbalance shuffling an answer's addresses, minimal cutting an answer short, nsid
// adding its option, rewrite editing a query and re-encoding its answer, and view
// evaluating an expression (and picking a block among three sharing a zone).
// Compare with BM_* in wire_parse_bench for the parse every query pays anyway.
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <netinet/in.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bench_util.h"
#include "core/base/counters.h"
#include "core/base/random.h"
#include "core/config/loader.h"
#include "core/pipeline/pipeline.h"
#include "core/routes.h"
#include "core/view/expr.h"
#include "testing/message_builder.h"

namespace ringdns::bench {
namespace {

using testing::Bytes;
using testing::MessageBuilder;

core::Pipeline Build(const std::string& directives) {
  absl::StatusOr<core::config::Config> config = core::config::ParseCorefile(
      ".:53 {\n" + directives + " forward . 127.0.0.1:53\n}\n", "bench/Corefile");
  absl::StatusOr<core::Pipeline> p = core::BuildPipeline(config->blocks.front());
  return std::move(*p);
}

// Runs one query through `stages` from a fresh copy each time, as the shard would with a
// newly received datagram.
// `list` is the pipeline's list the stage sits in.
using StageList = std::vector<core::Stage> core::Pipeline::*;

void RunQuery(benchmark::State& state, const std::string& directives, std::uint16_t qtype,
              const std::string& qname = "www.example.svc.cluster.local.", std::uint16_t qclass = 1,
              StageList list = &core::Pipeline::before_cache) {
  const core::Pipeline p = Build(directives);
  const Bytes query = MessageBuilder(1, 0x0100).Question(qname, qtype, qclass).Opt(1232, 0).bytes();
  Bytes room(1232);
  core::ShardCounters counters;
  sockaddr_in client{};
  client.sin_family = AF_INET;
  client.sin_addr.s_addr = htonl(0x0a000105);
  const auto op = [&] {
    std::memcpy(room.data(), query.data(), query.size());
    const std::span<std::uint8_t> msg(room.data(), query.size());
    const wire::Result<wire::QueryView> q = wire::ParseQuery(msg);
    core::QueryContext ctx{msg,   *q,   q->qname(msg), reinterpret_cast<const sockaddr*>(&client),
                           false, room, counters};
    benchmark::DoNotOptimize(core::Pipeline::Run(p.*list, ctx));
  };
  ReportAllocsPerOp(state, op);
  for (auto _ : state) op();
  state.SetItemsProcessed(state.iterations());
}

void BM_ParseOnly(benchmark::State& state) { RunQuery(state, "", 1); }
BENCHMARK(BM_ParseOnly);

void BM_AclPassesAQueryOn(benchmark::State& state) {
  RunQuery(
      state,
      " acl {\n  block type AXFR\n  filter type TXT net 192.0.2.0/24\n  allow net 10.0.0.0/8\n }\n",
      1);
}
BENCHMARK(BM_AclPassesAQueryOn);

void BM_AnyAnswersAnAnyQuery(benchmark::State& state) { RunQuery(state, " any\n", 255); }
BENCHMARK(BM_AnyAnswersAnAnyQuery);

void BM_ChaosAnswersVersionBind(benchmark::State& state) {
  RunQuery(state, " chaos v1 alice bob\n", 16, "version.bind.", 3);
}
BENCHMARK(BM_ChaosAnswersVersionBind);

void BM_ChaosPassesAnInQueryOn(benchmark::State& state) { RunQuery(state, " chaos\n", 1); }
BENCHMARK(BM_ChaosPassesAnInQueryOn);

void BM_BufsizeLowersAQuerysEdnsSize(benchmark::State& state) {
  RunQuery(state, " bufsize 1100\n", 1, "www.example.svc.cluster.local.", 1,
           &core::Pipeline::query_edits);
}
BENCHMARK(BM_BufsizeLowersAQuerysEdnsSize);

void BM_WhoamiAnswers(benchmark::State& state) {
  RunQuery(state, " whoami\n", 1, "www.example.svc.cluster.local.", 1,
           &core::Pipeline::after_forward);
}
BENCHMARK(BM_WhoamiAnswers);

// template: the README's A example (an unanchored regex with four named groups), a
// template without a regex, its NXDOMAIN with SOA and EDE, and a query outside its zones.
constexpr const char* kTemplates =
    " template IN A example {\n"
    "  match (^|[.])ip-(?P<a>[0-9]*)-(?P<b>[0-9]*)-(?P<c>[0-9]*)-(?P<d>[0-9]*)[.]example[.]$\n"
    "  answer \"{{ .Name }} 60 IN A {{ .Group.a }}.{{ .Group.b }}.{{ .Group.c }}.{{ .Group.d }}\"\n"
    "  fallthrough\n }\n"
    " template IN A plain.test {\n  answer \"{{ .Name }} 60 IN A 192.0.2.1\"\n }\n"
    " template ANY ANY invalid {\n  rcode NXDOMAIN\n"
    "  authority \"invalid. 60 {{ .Class }} SOA ns.invalid. hostmaster.invalid. (1 60 60 60 60)\"\n"
    "  ederror 21 \"Blocked according to RFC2606\"\n }\n";

void BM_TemplateAnswersFromARegex(benchmark::State& state) {
  RunQuery(state, kTemplates, 1, "x.ip-10-1-2-3.example.", 1, &core::Pipeline::after_cache);
}
BENCHMARK(BM_TemplateAnswersFromARegex);

void BM_TemplateAnswersWithoutARegex(benchmark::State& state) {
  RunQuery(state, kTemplates, 1, "a.plain.test.", 1, &core::Pipeline::after_cache);
}
BENCHMARK(BM_TemplateAnswersWithoutARegex);

void BM_TemplateAnswersNxdomainWithSoaAndEde(benchmark::State& state) {
  RunQuery(state, kTemplates, 28, "foo.invalid.", 1, &core::Pipeline::after_cache);
}
BENCHMARK(BM_TemplateAnswersNxdomainWithSoaAndEde);

void BM_TemplatePassesAnotherZoneOn(benchmark::State& state) {
  RunQuery(state, kTemplates, 1, "www.example.svc.cluster.local.", 1, &core::Pipeline::after_cache);
}
BENCHMARK(BM_TemplatePassesAnotherZoneOn);

// hosts answering A from a table of 1 000 names (and passing a name outside its zone on).
std::string HostsLines() {
  std::string lines = " hosts /nonexistent/ringdns-bench example.svc.cluster.local {\n";
  for (int i = 0; i < 1000; ++i) {
    lines += "  10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256) + " host" +
             std::to_string(i) + ".example.svc.cluster.local\n";
  }
  lines += "  10.9.9.9 www.example.svc.cluster.local\n }\n";
  return lines;
}
void BM_HostsAnswersAKnownName(benchmark::State& state) {
  RunQuery(state, HostsLines(), 1, "WWW.example.svc.cluster.local.", 1,
           &core::Pipeline::after_cache);
}
BENCHMARK(BM_HostsAnswersAKnownName);
void BM_HostsPassesAnotherZoneOn(benchmark::State& state) {
  RunQuery(state, HostsLines(), 1, "www.example.org.", 1, &core::Pipeline::after_cache);
}
BENCHMARK(BM_HostsPassesAnotherZoneOn);

// minimal on an answer with one A record, two NS records in authority and their two
// addresses in additional; the answer is copied back each time (it comes out shorter),
// and BM_MinimalCopyOnly is that copy alone.
void MinimalRun(benchmark::State& state, bool run_hooks) {
  const core::Pipeline p = Build(" minimal\n");
  MessageBuilder b(1, 0x8180);
  b.Question("www.example.svc.cluster.local.", 1).AnswerAt(12, 1, 30, testing::ARdata(10, 0, 0, 1));
  b.Authority("example.svc.cluster.local.", 2, 30,
              testing::WireName("ns1.example.svc.cluster.local."));
  b.Authority("example.svc.cluster.local.", 2, 30,
              testing::WireName("ns2.example.svc.cluster.local."));
  b.Additional("ns1.example.svc.cluster.local.", 1, 30, testing::ARdata(10, 0, 0, 53));
  b.Additional("ns2.example.svc.cluster.local.", 1, 30, testing::ARdata(10, 0, 0, 54));
  b.Opt(1232, 0);
  const Bytes full = b.bytes();
  Bytes answer = full;
  core::RandomPool random;
  const auto op = [&] {
    std::memcpy(answer.data(), full.data(), full.size());
    core::AnswerContext ctx{answer, random};
    if (run_hooks) core::Pipeline::RunAnswer(p.answer_hooks, ctx);
    benchmark::DoNotOptimize(ctx.message.size());
  };
  ReportAllocsPerOp(state, op);
  for (auto _ : state) op();
  state.SetItemsProcessed(state.iterations());
}

void BM_MinimalCutsAnAnswer(benchmark::State& state) { MinimalRun(state, true); }
BENCHMARK(BM_MinimalCutsAnAnswer);
void BM_MinimalCopyOnly(benchmark::State& state) { MinimalRun(state, false); }
BENCHMARK(BM_MinimalCopyOnly);

// rewrite: a query's question rewritten in place (AKS's regex rule; an exact rule), and
// the answer to it re-encoded with the client's question and owner names back (one
// CNAME and two addresses, names compressed).
constexpr const char* kAksRewrite =
    " rewrite stop {\n  name regex (.*)\\.example\\.com {1}.default.svc.cluster.local\n"
    "  answer name (.*)\\.default\\.svc\\.cluster\\.local {1}.example.com\n }\n";

void RewriteQueryRun(benchmark::State& state, const std::string& directives,
                     const std::string& qname) {
  const core::Pipeline p = Build(directives);
  sockaddr_in client{};
  client.sin_family = AF_INET;
  client.sin_addr.s_addr = htonl(0x0a010203);
  const core::QueryOrigin origin{reinterpret_cast<const sockaddr*>(&client), false};
  const Bytes query = MessageBuilder(1, 0x0100).Question(qname, 1).Opt(1232, 0).bytes();
  Bytes room(1960);
  const auto op = [&] {
    std::memcpy(room.data(), query.data(), query.size());
    const wire::Result<wire::QueryView> q = wire::ParseQuery({room.data(), query.size()});
    benchmark::DoNotOptimize(
        p.rewrite->RewriteQuery(room, q->size, q->qname_len, q->qtype, q->qclass, origin));
  };
  ReportAllocsPerOp(state, op);
  for (auto _ : state) op();
  state.SetItemsProcessed(state.iterations());
}

void BM_RewriteQueryRegex(benchmark::State& state) {
  RewriteQueryRun(state, kAksRewrite, "foo.example.com.");
}
BENCHMARK(BM_RewriteQueryRegex);
void BM_RewriteQueryExact(benchmark::State& state) {
  RewriteQueryRun(state, " rewrite name exact foo.example.com. foo.default.svc.cluster.local.\n",
                  "foo.example.com.");
}
BENCHMARK(BM_RewriteQueryExact);
void BM_RewritePassesAnotherNameOn(benchmark::State& state) {
  RewriteQueryRun(state, kAksRewrite, "www.example.org.");
}
BENCHMARK(BM_RewritePassesAnotherNameOn);
void BM_RewriteEdns0LocalSet(benchmark::State& state) {
  RewriteQueryRun(state, " rewrite edns0 local set 0xffee 0x61626364\n", "foo.example.com.");
}
BENCHMARK(BM_RewriteEdns0LocalSet);
void BM_RewriteEdns0Subnet(benchmark::State& state) {
  RewriteQueryRun(state, " rewrite edns0 subnet set 24 56\n", "foo.example.com.");
}
BENCHMARK(BM_RewriteEdns0Subnet);

void BM_RewriteRevertsAnAnswer(benchmark::State& state) {
  const core::Pipeline p = Build(kAksRewrite);
  MessageBuilder b(1, 0x8180);
  b.Question("foo.default.svc.cluster.local.", 1);
  b.AnswerAt(12, 5, 30, testing::WireName("bar.default.svc.cluster.local."));
  b.Answer("bar.default.svc.cluster.local.", 1, 30, testing::ARdata(10, 0, 0, 1));
  b.Answer("bar.default.svc.cluster.local.", 1, 30, testing::ARdata(10, 0, 0, 2));
  b.Opt(1232, 0);
  const Bytes answer = b.bytes();
  core::OriginalQuestion original;
  const Bytes name = testing::WireName("foo.example.com.");
  original.qname_len = static_cast<std::uint8_t>(name.size());
  std::memcpy(original.qname.data(), name.data(), name.size());
  original.qtype = 1;
  original.qclass = 1;
  Bytes out(65535);
  const auto op = [&] {
    benchmark::DoNotOptimize(p.rewrite->RevertAnswer(answer, out, original, 1));
  };
  ReportAllocsPerOp(state, op);
  for (auto _ : state) op();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RewriteRevertsAnAnswer);

void BM_LoadbalanceShufflesAnAnswer(benchmark::State& state) {
  const core::Pipeline p = Build(" loadbalance\n");
  MessageBuilder b(1, 0x8180);
  b.Question("www.example.svc.cluster.local.", 1);
  for (std::uint8_t i = 1; i <= static_cast<std::uint8_t>(state.range(0)); ++i) {
    b.AnswerAt(12, 1, 30, testing::ARdata(10, 0, 0, i));
  }
  b.Opt(1232, 0);
  Bytes answer = b.bytes();
  core::RandomPool random;
  const auto op = [&] {
    core::AnswerContext ctx{answer, random};
    core::Pipeline::RunAnswer(p.answer_hooks, ctx);
    benchmark::DoNotOptimize(answer.data());
  };
  ReportAllocsPerOp(state, op);
  for (auto _ : state) op();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LoadbalanceShufflesAnAnswer)->Arg(1)->Arg(4)->Arg(16);

// nsid on a forwarded answer of four A records: the answer is copied back each
// time (it comes out longer), with the query's NSID noted (Arg 1) or not (Arg 0, the cost
// every other answer of a block with nsid pays).
void BM_NsidAddsItsOption(benchmark::State& state) {
  const core::Pipeline p = Build(" nsid ringdns-pod-7f9c\n");
  MessageBuilder b(1, 0x8180);
  b.Question("www.example.svc.cluster.local.", 1);
  for (std::uint8_t i = 1; i <= 4; ++i) b.AnswerAt(12, 1, 30, testing::ARdata(10, 0, 0, i));
  b.Opt(1232, 0);
  const Bytes full = b.bytes();
  Bytes buffer(1232);
  core::RandomPool random;
  const bool requested = state.range(0) != 0;
  const auto op = [&] {
    std::memcpy(buffer.data(), full.data(), full.size());
    core::AnswerContext ctx{{buffer.data(), full.size()}, random, buffer, requested};
    core::Pipeline::RunAnswer(p.answer_hooks, ctx);
    benchmark::DoNotOptimize(ctx.message.size());
  };
  ReportAllocsPerOp(state, op);
  for (auto _ : state) op();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_NsidAddsItsOption)->Arg(0)->Arg(1);

// view: one expression evaluated on a parsed query, by the form CoreDNS's README uses:
// a client CIDR, a type list, a regex on the name, and the README's compound example.
constexpr const char* kViewExpressions[] = {
    "incidr(client_ip(), '10.0.0.0/8')",
    "type() in ['A', 'AAAA']",
    "name() matches '^www\\\\.example\\\\.'",
    "(type() == 'A' && name() == 'www.example.svc.cluster.local.') || client_ip() == '1.2.3.4'",
};

core::view::Request ViewRequest(const Bytes& query, const sockaddr_in& client,
                                const sockaddr_in& server) {
  const wire::Result<wire::QueryView> q = wire::ParseQuery(query);
  return core::view::Request{.qname = q->qname(query),
                             .qtype = q->qtype,
                             .qclass = q->qclass,
                             .id = q->id,
                             .opcode = static_cast<std::uint8_t>(q->opcode()),
                             .tcp = false,
                             .do_bit = q->opt.do_bit(),
                             .has_opt = q->opt.present(),
                             .opt_udp_size = q->opt.udp_size,
                             .size = static_cast<std::uint32_t>(query.size()),
                             .client = reinterpret_cast<const sockaddr*>(&client),
                             .server = reinterpret_cast<const sockaddr*>(&server)};
}

void BM_ViewEvaluates(benchmark::State& state) {
  const absl::StatusOr<core::view::Program> program =
      core::view::Program::Compile(kViewExpressions[static_cast<std::size_t>(state.range(0))]);
  const Bytes query =
      MessageBuilder(1, 0x0100).Question("www.example.svc.cluster.local.", 1).Opt(1232, 0).bytes();
  sockaddr_in client{};
  client.sin_family = AF_INET;
  client.sin_addr.s_addr = htonl(0x0a000105);
  const sockaddr_in server = client;
  const core::view::Request request = ViewRequest(query, client, server);
  const auto op = [&] { benchmark::DoNotOptimize(program->Evaluate(request)); };
  ReportAllocsPerOp(state, op);
  for (auto _ : state) op();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ViewEvaluates)->DenseRange(0, 3);

// Three blocks share .:53: the query fails the first view and takes the second.
void BM_ViewPicksABlock(benchmark::State& state) {
  absl::StatusOr<core::config::Config> config = core::config::ParseCorefile(
      ".:53 {\n view mail {\n  expr type() in ['MX', 'TXT']\n }\n forward . 127.0.0.1:1\n}\n"
      ".:53 {\n view inside {\n  expr incidr(client_ip(), '10.0.0.0/8')\n }\n forward . "
      "127.0.0.1:2\n}\n"
      ".:53 {\n forward . 127.0.0.1:3\n}\n",
      "bench/Corefile");
  const absl::StatusOr<core::RouteTable> routes = core::BuildRoutes(*config);
  const Bytes query =
      MessageBuilder(1, 0x0100).Question("www.example.svc.cluster.local.", 1).Opt(1232, 0).bytes();
  sockaddr_in client{};
  client.sin_family = AF_INET;
  client.sin_addr.s_addr = htonl(0x0a000105);
  const core::view::Request request = ViewRequest(query, client, client);
  const auto op = [&] {
    benchmark::DoNotOptimize(routes->PickBlock(routes->listeners[0], request.qname, &request));
  };
  ReportAllocsPerOp(state, op);
  for (auto _ : state) op();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ViewPicksABlock);

}  // namespace
}  // namespace ringdns::bench

BENCHMARK_MAIN();
