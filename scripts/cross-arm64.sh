#!/usr/bin/env bash
# arm64 (Raspberry Pi OS Bookworm / Debian 12 arm64) from an amd64 machine,
# without changing the machine's own packages:
#
#  1. A throwaway Debian 12 amd64 build chroot, made with mmdebstrap
#     (--variant=buildd) in /var/cache/sightline-cross/chroot
#     (SIGHTLINE_CROSS_CACHE), with arm64 a foreign architecture *inside it*,
#     crossbuild-essential-arm64, qemu-user-static and the build dependencies
#     for -a arm64 (apt-get build-dep -a arm64 on debian/control). It is kept
#     and reused while its stamp (recipe version + debian/control) matches;
#     and is younger than 14 days (security updates; SIGHTLINE_CROSS_MAX_AGE_DAYS);
#     otherwise it is made anew (a few minutes; SIGHTLINE_CROSS_FRESH=1 forces it).
#  2. The work tree bind-mounted at /src inside it, in a private mount
#     namespace (unshare), so every mount goes away when the step ends,
#     whatever way it ends.
#  3. Inside: scripts/package.sh arm64 (dpkg-buildpackage -a arm64 with
#     debhelper from debian/) writes dist/sightline-{agent,relay}_*_arm64.deb;
#     the unit tests are cross-built in build-arm64/ (tests/cross/arm64.ini)
#     and run under qemu-user (qemu-aarch64-static, no binfmt needed), results
#     in build-arm64/meson-logs/testlog.json.
#
# The host gets only mmdebstrap (installed if missing, as root): no foreign
# architecture, no :arm64 packages, nothing removed or upgraded, so a native
# build still works afterwards (scripts/test.sh checks it) and the script can
# run any number of times. Needs root (chroot, mounts).
set -euo pipefail
cd "$(dirname "$0")/.."
src=$(pwd)

if [ "$(id -u)" -ne 0 ]; then
  echo "cross-arm64: needs root (mmdebstrap, chroot, mounts)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
cache=${SIGHTLINE_CROSS_CACHE:-/var/cache/sightline-cross}
chroot_dir=$cache/chroot
# Bump when the recipe below changes: a chroot made by another recipe is made anew.
recipe=1
stamp="recipe $recipe; control $(sha256sum debian/control | cut -d' ' -f1)"

if ! command -v mmdebstrap >/dev/null 2>&1; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends mmdebstrap >/dev/null
fi

# The Debian mirrors the host uses (deb822 sources), else deb.debian.org.
sources() {
  local mirror=http://deb.debian.org/debian security=http://deb.debian.org/debian-security uri
  if [ -r /etc/apt/sources.list.d/debian.sources ]; then
    for uri in $(sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/debian.sources); do
      case $uri in *security*) security=$uri ;; *) mirror=$uri ;; esac
    done
  fi
  cat <<SOURCES
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
}

make_chroot() {
  local tmp new=$cache/chroot.new
  tmp=$(mktemp -d)
  # libsoup-3.0-dev:arm64 depends on libsysprof-capture-4-dev, which Debian 12
  # only has in libsysprof-4-dev, whose GTK 4 dependencies cannot be installed
  # for arm64 beside amd64 (python3). libsoup needs sysprof only for static
  # linking: a stand-in package provides the name and an empty pkg-config file.
  mkdir -p "$tmp/stub/DEBIAN" "$tmp/stub/usr/lib/aarch64-linux-gnu/pkgconfig" "$tmp/deps"
  cat > "$tmp/stub/DEBIAN/control" <<'CONTROL'
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
    > "$tmp/stub/usr/lib/aarch64-linux-gnu/pkgconfig/sysprof-capture-4.pc"
  dpkg-deb --build "$tmp/stub" "$tmp/sysprof-stub.deb" >/dev/null
  cp -r debian "$tmp/deps/"
  rm -rf "$new"
  mkdir -p "$cache"
  # Inside the chroot: arm64 as a foreign architecture, the cross toolchain,
  # qemu, the stand-in, then debian/control's build dependencies for arm64
  # (with the <!nocheck> ones: the unit tests run under qemu).
  sources | mmdebstrap --variant=buildd --architectures=amd64,arm64 \
    --include=crossbuild-essential-arm64,qemu-user-static,debhelper,dpkg-dev,file,python3,meson,ninja-build,pkg-config \
    --customize-hook="copy-in $tmp/sysprof-stub.deb $tmp/deps /tmp" \
    --customize-hook='chroot "$1" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q /tmp/sysprof-stub.deb' \
    --customize-hook='chroot "$1" env DEBIAN_FRONTEND=noninteractive apt-get build-dep -y -q -a arm64 /tmp/deps' \
    --customize-hook='chroot "$1" apt-get clean; rm -rf "$1/tmp/deps" "$1/tmp/sysprof-stub.deb"' \
    bookworm "$new" -
  rm -rf "$tmp"
  mkdir -p "$new/src"
  echo "$stamp" > "$new/.sightline-cross-stamp"
  # Replace the old chroot only once the new one is complete. Nothing is
  # mounted in it outside a run (mounts live in the run's private namespace).
  rm -rf --one-file-system "$chroot_dir"
  mv "$new" "$chroot_dir"
}

started=$(date +%s)
if [ "${SIGHTLINE_CROSS_FRESH:-0}" = 1 ] || [ ! -x "$chroot_dir/usr/bin/aarch64-linux-gnu-g++" ] \
   || [ "$(cat "$chroot_dir/.sightline-cross-stamp" 2>/dev/null)" != "$stamp" ] \
   || [ -n "$(find "$chroot_dir/.sightline-cross-stamp" -mtime +"${SIGHTLINE_CROSS_MAX_AGE_DAYS:-14}")" ]; then
  echo "cross-arm64: making the build chroot in $chroot_dir"
  make_chroot
  echo "cross-arm64: chroot made in $(( $(date +%s) - started )) s"
else
  echo "cross-arm64: reusing the build chroot in $chroot_dir ($stamp)"
fi

# A build-arm64/ configured outside the chroot (other paths) is made anew.
if [ -d build-arm64 ] && [ ! -e build-arm64/.sightline-chroot ]; then
  rm -rf build-arm64
fi
# The files git tracks, for package.sh inside (no git in the chroot).
mkdir -p build-cross
git ls-files -z > build-cross/files

# Runs a command inside the chroot with the work tree at /src. unshare gives
# it a private mount namespace: /proc, /dev and /src are unmounted by the
# kernel when it exits, however it exits; the trap is for an interrupted run.
in_chroot() {
  unshare --mount --propagation private -- /bin/sh -euc '
    root=$1 src=$2; shift 2
    trap "umount -R \"\$root/src\" \"\$root/dev\" \"\$root/proc\" 2>/dev/null || true" EXIT
    mount -t proc proc "$root/proc"
    mount --rbind /dev "$root/dev"
    mount --bind "$src" "$root/src"
    chroot "$root" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/root LANG=C.UTF-8 \
      DEBIAN_FRONTEND=noninteractive "$@"
  ' sh "$chroot_dir" "$src" "$@"
}

in_chroot /bin/bash -euc '
  cd /src
  # debhelper builds with one job unless told otherwise.
  DEB_BUILD_OPTIONS="parallel=$(nproc)" SIGHTLINE_FILES=build-cross/files bash scripts/package.sh arm64

  # The unit tests for arm64, run through the cross file exe_wrapper (qemu).
  if [ ! -d build-arm64 ]; then
    meson setup build-arm64 --cross-file tests/cross/arm64.ini -Dbuildtype=debugoptimized >/dev/null
    touch build-arm64/.sightline-chroot
  fi
  targets=$(cd build-arm64 && meson introspect --targets | python3 -c \
    "import json,sys; print(\" \".join(t[\"filename\"][0] for t in json.load(sys.stdin) if t[\"name\"].startswith(\"unit-\")))")
  ninja -C build-arm64 $(for t in $targets; do realpath --relative-to=build-arm64 "$t"; done) >/dev/null
  file -b build-arm64/tests/unit/unit-protocol | grep -q "ARM aarch64"
  meson test -C build-arm64 --suite unit --no-rebuild --print-errorlogs --timeout-multiplier 5
'
echo "cross-arm64: done in $(( $(date +%s) - started )) s"
