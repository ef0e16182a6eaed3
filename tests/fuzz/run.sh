#!/usr/bin/env bash
# Runs one libFuzzer target: first every kept input (seeds and the inputs of
# past crashes, as regression tests), then fuzzing for a bounded time.
#   run.sh TARGET-BINARY NAME SECONDS
set -euo pipefail
target=$1 name=$2 seconds=$3
here=$(cd "$(dirname "$0")" && pwd)
kept=("$here/corpus/$name")
[ -d "$here/regressions/$name" ] && kept+=("$here/regressions/$name")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Kept inputs once each: a crash here is a regression.
"$target" -detect_leaks=0 -runs=0 "${kept[@]}" >"$work/replay.log" 2>&1 || { cat "$work/replay.log"; exit 1; }
# Then new inputs, bounded in time; a crash leaves its input in $work/crash-*.
if ! "$target" -detect_leaks=0 -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
     -artifact_prefix="$work/" "$work" "${kept[@]}" >"$work/fuzz.log" 2>&1; then
  tail -n 60 "$work/fuzz.log"
  for crash in "$work"/crash-* "$work"/timeout-* "$work"/leak-*; do
    [ -e "$crash" ] && { echo "input (base64), keep it in tests/fuzz/regressions/$name/ once fixed:"; base64 "$crash"; }
  done
  exit 1
fi
grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$work/fuzz.log" | tr '\n' ' '
echo
