#!/usr/bin/env bash
# The README's run command. The forwarder has not landed yet, so this builds ringdns and
# has it validate the tutorial's Corefile (upstream addresses are only parsed, never
# contacted); it will start the loopback tutorial demo once ringdns forwards.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target ringdns
build/release/tools/ringdns -version
build/release/tools/ringdns -conf examples/tutorial.Corefile -validate
echo "ringdns is built and understands the tutorial's Corefile; forwarding lands next (README: Status)."
