#!/usr/bin/env bash
# The README's run command. The forwarder has not landed yet, so this builds ringdns and
# shows that the binary runs; it will start the loopback tutorial demo once it forwards.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target ringdns
build/release/tools/ringdns -version
echo "ringdns is built; forwarding lands with the UDP forwarder (see README: Status)."
