#!/usr/bin/env bash
# Builds the Debian packages (sightline-agent, sightline-relay) from the files
# git tracks, with debhelper and meson, into dist/. Runs the unit tests on the
# way (DEB_BUILD_OPTIONS=nocheck skips them). As root it installs what the
# build needs first.
#   bash scripts/package.sh            # amd64 (this machine's architecture)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

if [ "$(id -u)" -eq 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends debhelper dpkg-dev >/dev/null
  # The build dependencies as debian/control lists them.
  apt-get build-dep -y -qq ./ >/dev/null
fi

work=$(mktemp -d /tmp/sightline-package.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir "$work/sightline"
git ls-files -z | xargs -0 cp --parents -d -t "$work/sightline"
started=$(date +%s)
(cd "$work/sightline" && dpkg-buildpackage -b -us -uc >"$work/build.log" 2>&1) || {
  tail -60 "$work/build.log"
  echo "package: dpkg-buildpackage failed" >&2
  exit 1
}
mkdir -p dist
rm -f dist/*.deb
cp "$work"/*.deb dist/
echo "package: built in $(( $(date +%s) - started )) s:"
for deb in dist/*.deb; do
  printf '  %s  %s KiB (installed %s KiB)\n' "$(basename "$deb")" "$(( $(stat -c %s "$deb") / 1024 ))" \
    "$(dpkg-deb -f "$deb" Installed-Size)"
done
