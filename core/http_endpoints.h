// core/http_endpoints.h: the HTTP side of operations, CoreDNS-compatible: `prometheus`
// (/metrics), `health` (/health) and `ready` (/ready), served by cpp-httplib on threads
// of its own, never on a shard. One listener per distinct address; blocks that name the
// same address share it.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "core/config/config.h"

namespace httplib {
class Server;
}

namespace ringdns::core {

class HttpEndpoints {
 public:
  struct Handlers {
    std::function<std::string()> metrics;  // the Prometheus text
    std::function<bool()> ready;           // /ready answers 200 while true, else 503
    std::function<bool()> healthy;         // /health answers 200 while true (lameduck), else 503
  };

  // Binds every endpoint the configuration names; an address in use is an error that
  // names the directive's position.
  static absl::StatusOr<std::unique_ptr<HttpEndpoints>> Start(const config::Config& config,
                                                              Handlers handlers);
  ~HttpEndpoints();  // stops every listener and joins its thread

  // The port each listener got, in start order (tests bind port 0).
  const std::vector<int>& ports() const noexcept { return ports_; }

 private:
  HttpEndpoints() = default;

  Handlers handlers_;
  std::vector<std::unique_ptr<httplib::Server>> servers_;
  std::vector<std::thread> threads_;
  std::vector<int> ports_;
};

}  // namespace ringdns::core
