// core/pipeline/chaos_stage.h: CoreDNS's `chaos [VERSION] [AUTHORS...]`: TXT queries of
// class CH for the server's version (version.bind, version.server), its host name
// (hostname.bind, id.server) and its authors (authors.bind, one TXT record each) are
// answered by ringdns itself, TTL 0. Any other query goes on, as in CoreDNS (a CH query
// for another name is forwarded). Differences from CoreDNS: the version defaults to
// ringdns-VERSION, there is no built-in list of authors (authors.bind without AUTHORS is
// answered with no record), authors keep the order they are written in (each once), and
// the host name is read when the configuration is loaded.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/pipeline/query_context.h"

namespace ringdns::core {

class ChaosStage {
 public:
  ChaosStage(std::string_view version, const std::vector<std::string>& authors,
             std::string_view hostname);

  Verdict OnQuery(QueryContext& ctx) const noexcept;

 private:
  // TXT RDATA of one character-string each: the version, the host name, then the authors.
  // Offsets, not spans, so the stage can be copied and moved.
  std::vector<std::uint8_t> rdata_;
  struct Piece {
    std::uint32_t offset = 0;
    std::uint16_t size = 0;
  };
  Piece version_;
  Piece hostname_;
  std::vector<Piece> authors_;
};

}  // namespace ringdns::core
