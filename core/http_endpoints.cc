#include "core/http_endpoints.h"

#include <httplib.h>

#include <map>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"

namespace ringdns::core {
namespace {

struct Listener {
  std::set<std::string> paths;
  config::Location where;  // the first directive that asked for it
};

}  // namespace

absl::StatusOr<std::unique_ptr<HttpEndpoints>> HttpEndpoints::Start(const config::Config& config,
                                                                    Handlers handlers) {
  std::map<std::pair<std::string, std::uint16_t>, Listener> listeners;
  auto want = [&](const config::Endpoint& e, const char* path, const config::Location& where) {
    Listener& l = listeners[{e.host.empty() ? "0.0.0.0" : e.host, e.port}];
    if (l.paths.empty()) l.where = where;
    l.paths.insert(path);
  };
  for (const config::ServerBlock& block : config.blocks) {
    if (block.prometheus) want(*block.prometheus, "/metrics", block.where);
    if (block.health) want(block.health->address, "/health", block.where);
    if (block.ready) want(*block.ready, "/ready", block.where);
  }
  std::unique_ptr<HttpEndpoints> endpoints(new HttpEndpoints());
  endpoints->handlers_ = std::move(handlers);
  HttpEndpoints* self = endpoints.get();
  for (const auto& [address, listener] : listeners) {
    auto server = std::make_unique<httplib::Server>();
    for (const std::string& path : listener.paths) {
      if (path == "/metrics") {
        server->Get("/metrics", [self](const httplib::Request&, httplib::Response& res) {
          res.set_content(self->handlers_.metrics(), "text/plain; version=0.0.4; charset=utf-8");
        });
      } else {
        const bool ready = path == "/ready";
        server->Get(path, [self, ready](const httplib::Request&, httplib::Response& res) {
          const bool ok = ready ? self->handlers_.ready() : self->handlers_.healthy();
          res.status = ok ? 200 : 503;
          res.set_content(ok ? "OK" : "not ready", "text/plain");
        });
      }
    }
    const int port =
        address.second == 0
            ? server->bind_to_any_port(address.first)
            : (server->bind_to_port(address.first, address.second) ? address.second : -1);
    if (port < 0) {
      return absl::UnavailableError(absl::StrCat(listener.where.ToString(), ": cannot listen on ",
                                                 address.first, ":", address.second, " for ",
                                                 *listener.paths.begin(), " (in use?)"));
    }
    httplib::Server* raw = server.get();
    endpoints->ports_.push_back(port);
    endpoints->threads_.emplace_back([raw] { raw->listen_after_bind(); });
    endpoints->servers_.push_back(std::move(server));
  }
  return endpoints;
}

HttpEndpoints::~HttpEndpoints() {
  for (auto& server : servers_) server->stop();
  for (std::thread& t : threads_) t.join();
}

}  // namespace ringdns::core
