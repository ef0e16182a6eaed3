#!/usr/bin/env bash
# Runs a command inside a fresh network namespace that has only loopback, so a
# test's traffic (and every ICE candidate) stays on 127.0.0.1 and tests cannot
# clash over ports. Needs root (CI runs as root).
set -euo pipefail
name="sl-$$-${RANDOM}"
ip netns add "$name"
trap 'ip netns del "$name" 2>/dev/null || true' EXIT
ip netns exec "$name" ip link set lo up
ip netns exec "$name" "$@"
