#!/usr/bin/env bash
# Installs everything Sightline needs to build, run and test, on Debian 12 or
# Raspberry Pi OS Bookworm, as root. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  # build
  meson ninja-build pkg-config g++ clang libclang-rt-14-dev clang-format
  libglib2.0-dev libjson-glib-dev libsoup-3.0-dev doctest-dev
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstreamer-plugins-bad1.0-dev libnice-dev
  libpaho-mqttpp-dev libpaho-mqtt-dev
  # run: capture, encoders, WebRTC
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
  gstreamer1.0-plugins-ugly gstreamer1.0-nice gstreamer1.0-libav gstreamer1.0-libcamera openssl
  # servers the system and its tests start on loopback
  mosquitto mosquitto-clients coturn haproxy
  # tests: network namespaces, headless browser, a stand-in IP camera (gst-rtsp-server)
  iproute2 nftables chromium chromium-driver curl libgstrtspserver-1.0-dev
  # package checks: systemd-analyze, setpriv
  systemd util-linux
)
command -v node >/dev/null 2>&1 || packages+=(nodejs npm)

export DEBIAN_FRONTEND=noninteractive
if [ "$(id -u)" -eq 0 ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
else
  echo "setup.sh: not root; assuming these are installed: ${packages[*]}" >&2
fi

# The packages may start their own broker and TURN server on the default ports;
# the demo and the tests start their own, on loopback.
for service in mosquitto coturn haproxy; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$service" 2>/dev/null; then
    systemctl stop "$service" || true
  fi
done

# playwright-core drives Debian's Chromium; it never downloads a browser.
(cd tests/integration && npm ci --no-audit --no-fund --loglevel=error)
echo "setup: done"
