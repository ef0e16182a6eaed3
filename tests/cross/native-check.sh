#!/usr/bin/env bash
# After the arm64 cross step: a native (amd64) build on this machine still
# works, i.e. the cross step left the host's -dev packages alone: meson setup
# (a reconfigure of an existing build dir), then the sources that include
# <gst/rtp/...> compiled again (the headers of libgstreamer-plugins-base1.0-dev)
# and the agent and the unit tests linked again (-lgstrtp-1.0, its .so link).
# Exits non-zero if any of it fails. Uses build/ (scripts/test.sh made it) or
# sets a fresh one up if missing (a full build then).
#   bash tests/cross/native-check.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=${1:-build}
if [ -d "$dir/meson-private" ]; then
  meson setup --reconfigure "$dir"
else
  meson setup "$dir"
fi
grep -rl --include='*.cpp' --include='*.hpp' 'gst/rtp/' agent tests/unit | xargs touch
ninja -C "$dir"
