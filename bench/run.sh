#!/usr/bin/env bash
# Builds and runs the live-view benchmark inside a loopback-only network
# namespace. Prints one line of figures per case. As root.
#   bash bench/run.sh                 # every case
#   bash bench/run.sh latency         # one case: first-frame | latency | cpu | control | nat
#   bash bench/run.sh viewer-cost     # only when asked: what one more viewer costs, in rounds
#   bash bench/run.sh long-run [relay|agent|sockets]   # sockets: 50,000 connections coming and going (not in the default)
#   bash bench/run.sh cameras [paths|agents] [WxH]   # agent CPU per capture path (with and without sound);
#                                     # three cameras on one agent vs three agents, one viewer each
#   bash bench/run.sh negotiations    # 1,000 watches a second through one relay, a stand-in agent answering:
#                                     # what the relay adds, p50/p99
#                                     # only when asked: 100,000 sessions against the relay, 2,000 against
#                                     # the agent, RSS and descriptors sampled (bench/long_run.mjs: its
#                                     # settings; LONG_RUN_ASAN=1 for the build-asan/ binaries and LSan)
#   REFERENCE_AGENT=/path/to/another/sightline-agent bash bench/run.sh cpu
#                                     # first-frame, cpu, viewer-cost: that agent measured in the same run
#   COMPARE_WAIT=1 bash bench/run.sh first-frame
#                                     # also waited for the old way (selector waits), in the same run
#   REFERENCE_WEB=/path/to/another/web bash bench/run.sh first-frame
#                                     # that page, served by a second relay, measured in the same run
#   bash bench/run.sh fleet [N ...]   # only when asked: one relay under N protocol-level agents
#                                     # (default 100 1000 10000) and 10 pages, against a gorilla/websocket
#                                     # echo server (bench/gorilla) holding as many connections
#   bash bench/run.sh shaped [CAP[+lossN] ...]   # only when asked: a viewer on a shaped link (issue 20),
#                                     # our agent and Chromium -> Chromium in the same run (default 600 1000
#                                     # 3000+loss2 kbit/s; about 7 minutes)
#   bash bench/run.sh fanout [cpu|agent|first-frame]
#                                     # only when asked: the relay's fan-out against Janus's
#                                     # streaming plugin (installs janus when missing)
#   bash bench/run.sh sync            # only when asked: the delay "in step" adds (loopback), and two pages
#                                     # of one camera across a 150 ms path with it off and on (bench/sync.mjs)
#   bash bench/run.sh thin-page       # only when asked: the camera page on a 1 Mbit/s link, first frame and
#                                     # the rest of the page (REFERENCE_RELAY / REFERENCE_WEB: beside another
#                                     # relay and web app, same run; bench/thin_page.mjs)
#   bash bench/run.sh lower-encoding  # only when asked: the agent's CPU with and without its lower encoding
#                                     # live (two pages, one behind a 600 kbit/s link: bench/lower_encoding.mjs;
#                                     # SOURCE=rtsp: an IP camera whose H.264 is passed through)
#   bash bench/run.sh network-change  # only when asked: a viewer's address changes mid-session, RUNS=5 times:
#                                     # when it plays again, on which session (bench/network_change.mjs);
#                                     # SIDE=camera: the camera's address changes instead
#   bash bench/run.sh fanout-threads  # a fan-out worker's CPU by thread with 1 and 8 viewers
#                                     # (W, H, COUNTS, PERF=1 for perf record: bench/fanout_threads.mjs)
#   bash bench/run.sh fleet cluster [N]   # N agents (default 30,000) across RELAYS=3 relays on one broker
#   SIGHTLINE_RELAY=/path/to/sightline-relay bash bench/run.sh fleet 100 1000
#                                     # that relay, and nothing built
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d tests/integration/node_modules ] || bash scripts/setup.sh
if [ "${1:-}" != fleet ] || [ -z "${SIGHTLINE_RELAY:-}" ]; then
  bash scripts/build.sh build >/dev/null
fi
echo "sightline $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) cores, $(date -u +%Y-%m-%d)"
case "${1:-}" in
  fleet)
    shift
    # The reference, built offline from Debian's packages.
    if ! command -v go >/dev/null || [ ! -d /usr/share/gocode/src/github.com/gorilla/websocket ]; then
      apt-get install -y -qq golang-go golang-github-gorilla-websocket-dev >/dev/null
    fi
    gorilla=$(mktemp -d)/gorilla-echo
    GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="$(dirname "$gorilla")/cache" \
      go build -o "$gorilla" bench/gorilla/main.go
    # 10,000 agents: as many sockets in the relay and in node (the limit is inherited),
    # and a listen backlog that takes them at once (in the test's namespace only).
    ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
    GORILLA=$gorilla tests/integration/netns-run.sh \
      sh -c 'sysctl -qw net.core.somaxconn=16384 && exec node bench/fleet.mjs "$@"' fleet "$@"
    rm -rf "$(dirname "$gorilla")" ;;
  control) tests/integration/netns-run.sh node bench/control.mjs ;;
  nat) tests/integration/netns-run.sh node bench/nat.mjs ;;
  long-run) tests/integration/netns-run.sh node bench/long_run.mjs "${@:2}" ;;
  negotiations) tests/integration/netns-run.sh node bench/negotiations.mjs ;;
  cameras) tests/integration/netns-run.sh node bench/cameras.mjs "${@:2}" ;;
  shaped) tests/integration/netns-run.sh node bench/shaped_link.mjs "${@:2}" ;;
  fanout) command -v janus >/dev/null || { apt-get update -q && apt-get install -y -q janus; }
          tests/integration/netns-run.sh node bench/fanout.mjs "${@:2}" ;;
  fanout-threads) tests/integration/netns-run.sh node bench/fanout_threads.mjs ;;
  sync) tests/integration/netns-run.sh node bench/sync.mjs ;;
  thin-page) tests/integration/netns-run.sh node bench/thin_page.mjs ;;
  lower-encoding) tests/integration/netns-run.sh node bench/lower_encoding.mjs ;;
  network-change) tests/integration/netns-run.sh node bench/network_change.mjs ;;
  "") tests/integration/netns-run.sh node bench/live_view.mjs
      tests/integration/netns-run.sh node bench/control.mjs
      tests/integration/netns-run.sh node bench/nat.mjs ;;
  *) tests/integration/netns-run.sh node bench/live_view.mjs "$@" ;;
esac
