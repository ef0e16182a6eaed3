#!/usr/bin/env bash
# Configures and builds one build directory: build.sh DIR [meson options...]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$1
shift
if [ -f "$dir/build.ninja" ]; then
  meson setup --reconfigure "$dir" "$@" >/dev/null
else
  meson setup "$dir" "$@" >/dev/null
fi
meson compile -C "$dir"
