#!/usr/bin/env bash
# Builds the Debian packages (sightline-agent, sightline-relay) from the files
# git tracks, with debhelper and meson, into dist/. Runs the unit tests on the
# way (DEB_BUILD_OPTIONS=nocheck skips them). As root it installs what the
# build needs first.
#   bash scripts/package.sh            # amd64 (this machine's architecture)
#   bash scripts/package.sh arm64      # cross-built (scripts/cross-arm64.sh runs this inside
#                                      # its build chroot, where the arm64 build-deps are)
# SIGHTLINE_FILES names a file with the NUL-separated list of files to package,
# for a tree without git (the cross chroot); otherwise git ls-files.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
arch=${1:-}
cross=()
if [ -n "$arch" ] && [ "$arch" != "$(dpkg --print-architecture)" ]; then
  # Cross builds cannot run the unit tests: scripts/cross-arm64.sh runs them under qemu.
  cross=(-a "$arch")
  export DEB_BUILD_OPTIONS="nocheck ${DEB_BUILD_OPTIONS:-}"
fi

if [ "$(id -u)" -eq 0 ] && [ ${#cross[@]} -eq 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends debhelper dpkg-dev >/dev/null
  # The build dependencies as debian/control lists them.
  apt-get build-dep -y -qq ./ >/dev/null
fi

work=$(mktemp -d /tmp/sightline-package.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir "$work/sightline"
if [ -n "${SIGHTLINE_FILES:-}" ]; then cat "$SIGHTLINE_FILES"; else git ls-files -z; fi \
  | xargs -0 cp --parents -d -t "$work/sightline"
started=$(date +%s)
(cd "$work/sightline" && dpkg-buildpackage "${cross[@]}" -b -us -uc >"$work/build.log" 2>&1) || {
  tail -60 "$work/build.log"
  echo "package: dpkg-buildpackage failed" >&2
  exit 1
}
mkdir -p dist
built=$(cd "$work" && ls *.deb)
for deb in $built; do rm -f "dist/${deb%%_*}_"*"_${deb##*_}"; done  # older builds of the same packages
(cd "$work" && cp $built "$root/dist/")
echo "package: built in $(( $(date +%s) - started )) s:"
for deb in $built; do
  deb=dist/$deb
  printf '  %s  %s KiB (installed %s KiB)\n' "$(basename "$deb")" "$(( $(stat -c %s "$deb") / 1024 ))" \
    "$(dpkg-deb -f "$deb" Installed-Size)"
done
