#!/usr/bin/env bash
# Builds and runs the live-view benchmark inside a loopback-only network
# namespace. Prints one line of figures per case. As root.
#   bash bench/run.sh                 # every case
#   bash bench/run.sh latency         # one case: first-frame | latency | cpu | control | nat
#   bash bench/run.sh viewer-cost     # only when asked: what one more viewer costs, in rounds
#   bash bench/run.sh long-run [relay|agent]
#                                     # only when asked: 100,000 sessions against the relay, 2,000 against
#                                     # the agent, RSS and descriptors sampled (bench/long_run.mjs: its
#                                     # settings; LONG_RUN_ASAN=1 for the build-asan/ binaries and LSan)
#   REFERENCE_AGENT=/path/to/another/sightline-agent bash bench/run.sh cpu
#                                     # first-frame, cpu, viewer-cost: that agent measured in the same run
#   COMPARE_WAIT=1 bash bench/run.sh first-frame
#                                     # also waited for the old way (selector waits), in the same run
#   REFERENCE_WEB=/path/to/another/web bash bench/run.sh first-frame
#                                     # that page, served by a second relay, measured in the same run
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d tests/integration/node_modules ] || bash scripts/setup.sh
bash scripts/build.sh build >/dev/null
echo "sightline $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) cores, $(date -u +%Y-%m-%d)"
case "${1:-}" in
  control) tests/integration/netns-run.sh node bench/control.mjs ;;
  nat) tests/integration/netns-run.sh node bench/nat.mjs ;;
  long-run) tests/integration/netns-run.sh node bench/long_run.mjs "${@:2}" ;;
  "") tests/integration/netns-run.sh node bench/live_view.mjs
      tests/integration/netns-run.sh node bench/control.mjs
      tests/integration/netns-run.sh node bench/nat.mjs ;;
  *) tests/integration/netns-run.sh node bench/live_view.mjs "$@" ;;
esac
