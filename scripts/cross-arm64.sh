#!/usr/bin/env bash
# arm64 (Raspberry Pi OS Bookworm / Debian 12 arm64) from this amd64 machine:
# the Debian packages cross-built with Debian's multiarch toolchain
# (crossbuild-essential-arm64 and the :arm64 -dev packages), and the unit tests
# cross-built and run under qemu-user (qemu-user-static, no binfmt needed).
# As root it installs what that needs first. Results: dist/*_arm64.deb and
# build-arm64/meson-logs/testlog.json.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -eq 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  dpkg --add-architecture arm64
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends crossbuild-essential-arm64 qemu-user-static debhelper dpkg-dev file >/dev/null
  # libsoup-3.0-dev:arm64 depends on libsysprof-capture-4-dev, which Debian 12
  # only has in libsysprof-4-dev, whose GTK 4 dependencies cannot be installed
  # for arm64 beside amd64 (python3). libsoup needs sysprof only for static
  # linking: a stand-in package provides the name and an empty pkg-config file.
  if ! dpkg -s sightline-cross-sysprof-stub:arm64 >/dev/null 2>&1; then
    stub=$(mktemp -d)
    mkdir -p "$stub/DEBIAN" "$stub/usr/lib/aarch64-linux-gnu/pkgconfig"
    cat > "$stub/DEBIAN/control" <<'CONTROL'
Package: sightline-cross-sysprof-stub
Version: 3.46.0-0sightline1
Architecture: arm64
Multi-Arch: same
Provides: libsysprof-capture-4-dev (= 3.46.0-4)
Maintainer: Sightline maintainers <maintainers@users.noreply.r-seed-fe406e2e.example>
Description: cross-build stand-in for libsysprof-capture-4-dev
 Only its pkg-config file, so that libsoup-3.0-dev:arm64 installs without GTK 4.
CONTROL
    printf 'Name: sysprof-capture-4\nDescription: stand-in\nVersion: 3.46.0\nCflags:\nLibs:\n' \
      > "$stub/usr/lib/aarch64-linux-gnu/pkgconfig/sysprof-capture-4.pc"
    dpkg-deb --build "$stub" "$stub.deb" >/dev/null
    apt-get install -y -qq "$stub.deb" >/dev/null
    rm -rf "$stub" "$stub.deb"
  fi
  apt-get build-dep -y -qq -a arm64 ./ >/dev/null
fi

bash scripts/package.sh arm64

# The unit tests for arm64, run through the cross file's exe_wrapper (qemu).
[ -d build-arm64 ] || meson setup build-arm64 --cross-file tests/cross/arm64.ini -Dbuildtype=debugoptimized >/dev/null
targets=$(cd build-arm64 && meson introspect --targets | python3 -c \
  'import json,sys; print(" ".join(t["filename"][0] for t in json.load(sys.stdin) if t["name"].startswith("unit-")))')
ninja -C build-arm64 $(for t in $targets; do realpath --relative-to=build-arm64 "$t"; done) >/dev/null
file -b build-arm64/tests/unit/unit-protocol | grep -q 'ARM aarch64'
meson test -C build-arm64 --suite unit --no-rebuild --print-errorlogs --timeout-multiplier 5
