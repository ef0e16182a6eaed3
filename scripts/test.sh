#!/usr/bin/env bash
# Sets everything up and runs every test: unit and integration tests, once in a
# normal build and once under AddressSanitizer + UndefinedBehaviorSanitizer, then
# every parser under libFuzzer for a bounded time (SIGHTLINE_FUZZ_SECONDS, 20 each),
# then the Debian packages: built, installed, both services started; then arm64:
# packages cross-built and unit tests run under qemu-user, all inside a build
# chroot (scripts/cross-arm64.sh: mmdebstrap, /var/cache/sightline-cross), which
# leaves this machine's packages as they were: checked (nothing removed or
# changed), and a native build checked to still work (tests/cross/native-check.sh).
# Safe to run again on the same machine.
# Ends with one line "N passed, N failed, N skipped" from the real results.
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh || { echo "0 passed, 1 failed"; exit 1; }
bash scripts/build.sh build || { echo "0 passed, 1 failed"; exit 1; }
bash scripts/build.sh build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug \
  || { echo "0 passed, 1 failed"; exit 1; }
# The parsers under libFuzzer (clang), each for a bounded time (tests/fuzz/).
CC=clang CXX=clang++ bash scripts/build.sh build-fuzz -Dfuzzing=true -Db_sanitize=address,undefined \
  -Db_lundef=false -Dcpp_args=-fsanitize=fuzzer-no-link -Dfuzz_seconds="${SIGHTLINE_FUZZ_SECONDS:-20}" \
  || { echo "0 passed, 1 failed"; exit 1; }

meson test -C build --print-errorlogs --num-processes 2
# GLib and GStreamer keep caches for the life of the process: leaks are not
# checked here; everything else stops the test (UBSan included).
ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:halt_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  meson test -C build-asan --print-errorlogs --num-processes 2 --timeout-multiplier 3 --no-suite load
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 meson test -C build-fuzz --suite fuzz --print-errorlogs

# The Debian packages: built (unit tests inside), installed on this machine,
# both services started as their units start them (tests/package/smoke.sh).
mkdir -p build-package
if bash scripts/package.sh > build-package/package.log 2>&1; then
  echo "OK package build" > build-package/results
  tail -5 build-package/package.log
  bash tests/package/smoke.sh | tee build-package/smoke.log
  sed -n 's/^ok - /OK /p; s/^not ok - /FAIL /p' build-package/smoke.log >> build-package/results
else
  tail -40 build-package/package.log
  echo "FAIL package build" > build-package/results
fi
# arm64: the packages cross-built, the unit tests run under qemu (their results
# are in build-arm64's testlog, counted below), inside the cross chroot. Then:
# the host's packages are as they were (none removed or changed, no foreign
# architecture or :arm64 package added; the cross step may install mmdebstrap),
# and a native build still works.
host_packages() { dpkg --print-foreign-architectures | sed 's/^/foreign architecture /'
                 dpkg-query -W -f='${Package}:${Architecture} ${Version}\n'; }
host_packages | sort > build-package/host-packages.before
if bash scripts/cross-arm64.sh > build-package/cross.log 2>&1 && ls dist/sightline-agent_*_arm64.deb >/dev/null; then
  echo "OK arm64 package build (cross)" >> build-package/results
  grep -A3 "^package: built" build-package/cross.log
  grep "^cross-arm64:" build-package/cross.log
else
  tail -40 build-package/cross.log
  echo "FAIL arm64 package build (cross)" >> build-package/results
fi
host_packages | sort > build-package/host-packages.after
changed=$(comm -23 build-package/host-packages.before build-package/host-packages.after
          comm -13 build-package/host-packages.before build-package/host-packages.after | grep '^foreign\|:arm64 ')
if [ -z "$changed" ]; then
  echo "OK host packages unchanged by the cross build" >> build-package/results
else
  echo "host packages removed or changed (or :arm64 added) by the cross build:"
  echo "$changed"
  echo "FAIL host packages unchanged by the cross build" >> build-package/results
fi
if bash tests/cross/native-check.sh build > build-package/native-check.log 2>&1; then
  echo "OK native build after the cross build" >> build-package/results
else
  tail -30 build-package/native-check.log
  echo "FAIL native build after the cross build" >> build-package/results
fi

python3 - build/meson-logs/testlog.json build-asan/meson-logs/testlog.json build-fuzz/meson-logs/testlog.json \
  build-package/results build-arm64/meson-logs/testlog.json <<'PY'
import json, sys
passed = failed = skipped = 0
for path in sys.argv[1:]:
    try:
        lines = open(path).read().splitlines()
    except OSError:
        failed += 1
        continue
    for line in lines:
        # meson's JSON lines, or "OK name" / "FAIL name" from the package checks
        result = json.loads(line)["result"] if line.startswith("{") else line.split()[0]
        if result in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif result == "SKIP":
            skipped += 1
        else:
            failed += 1
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed or passed == 0 else 0)
PY
