// core/config/config.h: the immutable configuration a Corefile describes, with every
// default filled in (CoreDNS's defaults unless noted).
//
// Built on the control thread by LoadCorefile; shards later read a published snapshot.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "core/config/address.h"
#include "core/config/token.h"

namespace ringdns::core::config {

enum class Transport : std::uint8_t { kDns, kTls };
const char* TransportScheme(Transport transport);  // "dns" or "tls"

inline constexpr std::uint16_t kDefaultDnsPort = 53;
inline constexpr std::uint16_t kDefaultTlsPort = 853;
inline constexpr std::size_t kMaxUpstreams = 15;

struct ServerKey {
  Transport transport = Transport::kDns;
  std::string zone;  // lower-case, fully qualified: "remote.svc.cluster.local."
  std::uint16_t port = kDefaultDnsPort;
  Location where;
};

struct TlsFiles {
  std::string cert;  // empty: no client certificate
  std::string key;
  std::string ca;  // empty: the system store
};

enum class Policy : std::uint8_t { kRandom, kRoundRobin, kSequential };

struct Upstream {
  Transport transport = Transport::kDns;
  IpAddress address;
  std::uint16_t port = kDefaultDnsPort;
  std::string tls_servername;  // from tls://IP%NAME; overrides the block's tls_servername
};

struct HealthCheck {
  absl::Duration interval = absl::Milliseconds(500);
  bool recursion_desired = true;  // false with no_rec
  std::string domain = ".";
};

struct Forward {
  Location where;
  std::string from = ".";
  std::vector<std::string> except;
  std::vector<Upstream> to;
  bool force_tcp = false;
  bool prefer_udp = false;
  absl::Duration expire = absl::Seconds(10);
  std::uint32_t max_idle_conns = 0;               // 0: unlimited
  absl::Duration max_age = absl::ZeroDuration();  // 0: unlimited
  absl::Duration read_timeout = absl::Seconds(2);
  std::uint32_t max_fails = 2;
  std::uint32_t max_connect_attempts = 0;  // 0: unlimited
  std::optional<TlsFiles> tls;
  std::string tls_servername;
  bool insecure = false;  // ringdns: allow tls:// without a name to verify
  Policy policy = Policy::kRandom;
  HealthCheck health_check;
  std::uint32_t max_concurrent = 0;  // 0: unlimited
  std::vector<std::uint16_t> next_rcodes;
  bool failfast_all_unhealthy_upstreams = false;
  std::vector<std::uint16_t> failover_rcodes;
  std::optional<IpAddress> source_address;
};

struct CacheClass {
  std::uint32_t capacity = 9984;
  absl::Duration max_ttl;
  absl::Duration min_ttl = absl::Seconds(5);
};

enum class StaleRefresh : std::uint8_t { kImmediate, kVerify };

struct Cache {
  Location where;
  std::vector<std::string> zones;  // empty: the server block's zones
  CacheClass success{9984, absl::Seconds(3600), absl::Seconds(5)};
  CacheClass denial{9984, absl::Seconds(1800), absl::Seconds(5)};
  std::uint32_t prefetch_amount = 0;  // 0: no prefetch
  absl::Duration prefetch_duration = absl::Minutes(1);
  std::uint32_t prefetch_percentage = 10;
  bool serve_stale = false;
  absl::Duration serve_stale_duration = absl::Hours(1);
  StaleRefresh serve_stale_refresh = StaleRefresh::kImmediate;
  absl::Duration servfail_ttl = absl::Seconds(5);  // 0: never cache SERVFAIL
  std::vector<std::string> disable_success;        // zones; "." for all
  std::vector<std::string> disable_denial;
  bool keepttl = false;
};

enum class AclAction : std::uint8_t { kAllow, kBlock, kFilter, kDrop };

struct AclRule {
  AclAction action = AclAction::kAllow;
  std::vector<std::uint16_t> qtypes;  // empty: every type
  std::vector<Prefix> sources;        // empty: every source
};

struct Acl {
  std::vector<std::string> zones;  // empty: the server block's zones
  std::vector<AclRule> rules;
};

enum class LogClass : std::uint8_t { kAll, kSuccess, kDenial, kError };

struct Log {
  std::vector<std::string> names{"."};
  std::string format =
      "{remote}:{port} - {>id} \"{type} {class} {name} {proto} {size} "
      "{>do} {>bufsize}\" {rcode} {>rflags} {rsize} {duration}";
  std::vector<LogClass> classes{LogClass::kAll};
};

struct Consolidate {
  absl::Duration period;
  std::string pattern;
  std::string level = "error";
};

struct Errors {
  bool stacktrace = false;
  std::vector<Consolidate> consolidate;
};

// `dnstap SOCKET [full] [WRITEBUFFER [QUEUE]] { identity, version, extra, skipverify }`.
struct Dnstap {
  Location where;
  std::string unix_path;  // unix:///path, or a bare path
  IpAddress tcp_address;  // tcp://IP:PORT (family 0 for a Unix socket or a name)
  std::string tcp_host;   // tcp://NAME:PORT: resolved at each connect, as CoreDNS does
  std::uint16_t tcp_port = 0;
  bool full = false;  // the wire messages go in too
  std::uint32_t writebuffer =
      0;                    // CoreDNS's TCP write buffer in MiB; accepted, fstrm sizes its own
  std::uint32_t queue = 0;  // CoreDNS's queue in 10 000s of messages; 0: ringdns's default
  std::optional<std::string> identity;  // unset: the host name
  std::optional<std::string> version;   // unset: "ringdns-VERSION"
  std::string extra;
  bool skipverify = false;  // accepted (it is for tls://, which ringdns refuses)
  // What CoreDNS accepts and ignores, or takes differently, said once at start/reload:
  // "FILE:LINE:COL: dnstap: ...".
  std::vector<std::string> notes;
  // "unix:///path", "tcp://10.0.0.1:6000", "tcp://[fd00::1]:6000", "tcp://name:6000".
  std::string SocketText() const;
};

struct Endpoint {  // an HTTP listener: host may be empty (all addresses)
  std::string host;
  std::uint16_t port = 0;
};

struct Health {
  Endpoint address{"", 8080};
  absl::Duration lameduck = absl::ZeroDuration();
};

struct Reload {
  absl::Duration interval = absl::Seconds(30);
  absl::Duration jitter = absl::Seconds(15);
};

enum class ClientAuth : std::uint8_t {
  kNoCert,
  kRequest,
  kRequire,
  kVerifyIfGiven,
  kRequireAndVerify
};

struct ServerTls {
  std::string cert;
  std::string key;
  std::string ca;
  ClientAuth client_auth = ClientAuth::kNoCert;
};

// CoreDNS's `chaos [VERSION] [AUTHORS...]`: CH TXT answers for version.bind,
// version.server, authors.bind, hostname.bind and id.server.
struct Chaos {
  Location where;
  std::optional<std::string> version;  // unset: ringdns-VERSION
  std::vector<std::string> authors;
};

// CoreDNS's `nsid [DATA]`: the server's identifier (RFC 5001) for answers to queries that
// ask for it (core/pipeline/nsid_stage.h). Several words are joined with one space.
struct Nsid {
  std::optional<std::string> data;  // unset: the host name, "localhost" when it cannot be read
};

// CoreDNS's `template CLASS TYPE [ZONE...] { ... }`: answers made from Go templates for the
// names its regexes match (core/pipeline/template_stage.h).
struct Template {
  Location where;
  std::uint16_t qclass = 255;        // ANY: every class
  std::uint16_t qtype = 255;         // ANY: every type
  std::vector<std::string> zones;    // empty: the server block's zones
  std::vector<std::string> matches;  // RE2 (Go syntax) patterns, first match wins; empty: ".*"
  std::vector<std::string> answer;   // RR templates, per section
  std::vector<std::string> additional;
  std::vector<std::string> authority;
  std::uint16_t rcode = 0;
  std::optional<std::uint16_t> ederror;  // RFC 8914 INFO-CODE, with its EXTRA-TEXT
  std::string ederror_reason;
  // fallthrough [ZONES...]: a name no regex matches goes on down the chain (in these
  // zones; empty: all); without it, it is answered NXDOMAIN.
  std::optional<std::vector<std::string>> fallthrough;
};

// CoreDNS's `hosts [FILE [ZONES...]] { [INLINE] ttl no_reverse reload fallthrough }`:
// answers from a hosts file and entries written in the block (core/pipeline/hosts_stage.h).
struct HostsLine {  // one inline entry, `IP NAME...`, as its tokens
  std::vector<std::string> fields;
  Location where;
};

struct Hosts {
  Location where;
  std::string path = "/etc/hosts";        // as written; a relative one is under the block's root
  std::vector<std::string> zones;         // names served; default: the block's zones
  std::vector<HostsLine> inline_entries;  // served after the file's, in written order
  std::uint32_t ttl = 3600;
  bool no_reverse = false;                              // no PTR answers
  absl::Duration reload = absl::Seconds(5);             // how often the file is checked; 0: never
  std::optional<std::vector<std::string>> fallthrough;  // zones whose unknown names pass on
};

// CoreDNS's `rewrite [continue|stop] FIELD ...` (core/pipeline/rewrite_stage.h): one rule.
enum class RewriteField : std::uint8_t { kName, kType, kClass, kTtl, kEdns0 };
// `edns0 local|nsid|subnet set|replace|append|unset ...`: which option, and what is done.
enum class EdnsOptionKind : std::uint8_t { kLocal, kNsid, kSubnet };
enum class EdnsAction : std::uint8_t { kSet, kReplace, kAppend, kUnset };
// An `edns0 local` rule's data taken from the query: {qname}, {qtype}, {client_ip},
// {client_port}, {protocol}.
enum class EdnsVariable : std::uint8_t { kNone, kQname, kQtype, kClientIp, kClientPort, kProtocol };
enum class NameMatch : std::uint8_t { kExact, kPrefix, kSuffix, kSubstring, kRegex };

// `answer name FROM TO` (owner names) or `answer value FROM TO` (names in RDATA): FROM a
// regex, TO its replacement with {N} for group N.
struct RewriteAnswer {
  bool value = false;
  std::string pattern;
  std::string replacement;
};

inline constexpr std::size_t kMaxRewriteRules = 32;  // a query's matches fit a 32-bit mask

struct Rewrite {
  Location where;
  bool stop = true;  // `continue`: the rules after this one are tried too
  RewriteField field = RewriteField::kName;
  NameMatch match = NameMatch::kExact;
  // name, ttl: the name to match (lower case, fully qualified) or a regex.
  // type, class: FROM's code in `from_code`.
  std::string from;
  std::string to;  // name: the new name, or the regex's replacement with {N}
  std::uint16_t from_code = 0;
  std::uint16_t to_code = 0;
  std::uint32_t ttl_min = 0;  // ttl: answers' TTLs raised to at least this ...
  std::uint32_t ttl_max = 0;  // ... and lowered to at most this
  bool answer_auto = false;   // name: the answer's names turned back by the reverse rule
  std::vector<RewriteAnswer> answers;
  // edns0: the option (its code in `from_code` for local), the action, and local's data
  // (`edns_data`'s octets, or a variable) or subnet's prefix lengths.
  EdnsOptionKind edns_option = EdnsOptionKind::kLocal;
  EdnsAction edns_action = EdnsAction::kSet;
  std::string edns_data;
  EdnsVariable edns_variable = EdnsVariable::kNone;
  std::uint8_t subnet_v4 = 0;
  std::uint8_t subnet_v6 = 0;
};

// CoreDNS's `view NAME { expr EXPRESSION ... }`: the block serves a query only when every
// expression is true (core/view/expr.h); blocks with views may share a zone and port.
struct ViewExpr {
  std::string source;  // the line's arguments joined by one space, as CoreDNS joins them
  Location where;      // the first argument
};

struct View {
  Location where;
  std::string name;
  std::vector<ViewExpr> exprs;  // all must be true
};

struct ServerBlock {
  Location where;
  std::vector<ServerKey> keys;
  std::vector<Forward> forwards;  // chained in written order
  std::optional<Cache> cache;
  std::vector<IpAddress> bind;  // empty: every address
  std::vector<IpAddress> bind_except;
  std::vector<Acl> acls;
  std::vector<Log> logs;
  std::optional<Errors> errors;
  std::vector<Dnstap> dnstaps;
  std::optional<Health> health;
  std::optional<Endpoint> ready;       // default :8181
  std::optional<Endpoint> prometheus;  // default localhost:9153
  std::optional<Reload> reload;
  bool loop = false;
  bool any = false;          // RFC 8482 minimal answers to ANY
  bool loadbalance = false;  // round_robin: addresses shuffled per answer
  std::optional<Chaos> chaos;
  std::optional<Nsid> nsid;
  std::vector<Template> templates;  // tried in written order
  std::vector<Rewrite> rewrites;    // every `rewrite` line's rule, in written order
  // CoreDNS's `bufsize [SIZE]`: a query's EDNS UDP payload size above SIZE is lowered to it.
  std::optional<std::uint16_t> bufsize;
  bool whoami = false;  // answer what no forward takes with the client's address and port
  std::optional<Hosts> hosts;
  bool minimal = false;  // positive answers without their authority and additional records
  std::optional<ServerTls> tls;
  bool debug = false;
  std::string root;
  std::optional<View> view;
};

// The hosts file `block` reads: its path joined to the block's root when relative.
std::string HostsFilePath(const ServerBlock& block);

struct Config {
  std::string file;
  std::vector<ServerBlock> blocks;
};

}  // namespace ringdns::core::config
