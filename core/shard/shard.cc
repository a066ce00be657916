// Shard: the daemon's handle on a shard; every call goes to its ShardReactor.
#include "core/shard/shard.h"

#include "core/shard/shard_reactor.h"

namespace ringdns::core {

Shard::Shard(ShardId id, const RouteTable& routes, HealthTable& health, CaseRandomization& cases,
             LoopProbe& loop, const ShardOptions& options, ShardSuccession succession)
    : reactor_(std::make_unique<ShardReactor>(id, routes, health, cases, loop, options,
                                              std::move(succession))) {}

Shard::~Shard() = default;

absl::Status Shard::Init() { return reactor_->Init(); }
void Shard::Run(const std::atomic<bool>& stop) { reactor_->Run(stop); }
void Shard::Wake() const noexcept { reactor_->Wake(); }
void Shard::PassCacheOn(std::shared_ptr<CacheHandoff> to) { reactor_->PassCacheOn(std::move(to)); }
void Shard::PassStreamsOn(std::shared_ptr<StreamHandoff> to) {
  reactor_->PassStreamsOn(std::move(to));
}
std::vector<ShardSuccession::Listener> Shard::DuplicateListeners() const {
  return reactor_->DuplicateListeners();
}
const ShardCounters& Shard::counters() const noexcept { return reactor_->counters(); }
const ShardMetrics& Shard::metrics() const noexcept { return reactor_->metrics(); }
QuestionSamples* Shard::question_samples() noexcept { return reactor_->question_samples(); }
const std::string& Shard::ring_description() const noexcept { return reactor_->ring_description(); }
const char* Shard::io_backend() const noexcept { return reactor_->io_backend(); }
LogQueue* Shard::log_queue() noexcept { return reactor_->log_queue(); }
dnstap::TapQueue* Shard::tap_queue() noexcept { return reactor_->tap_queue(); }

}  // namespace ringdns::core
