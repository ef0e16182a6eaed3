#!/usr/bin/env bash
# The amd64 packages (dist/*.deb, from scripts/package.sh) installed on this
# machine as a user would (apt install ./*.deb, as root), checked, and both
# services started as their systemd units start them: systemd is not PID 1 on
# the CI machines, so the unit's ExecStart runs under its User= with setpriv.
# The relay serves the page; the agent, configured by deploy/pi/install.sh,
# shows up in /api/cameras; `sightline-agent --check` passes. Then purged.
# Everything on loopback. Prints "ok - ..." / "not ok - ..." lines and, last,
# "N passed, N failed"; exits 1 on any failure.
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
passed=0 failed=0
check() {  # check "what" command...
  local what=$1; shift
  if "$@" >/tmp/sightline-smoke.out 2>&1; then
    echo "ok - $what"; passed=$((passed + 1))
  else
    echo "not ok - $what"; sed 's/^/    /' /tmp/sightline-smoke.out | tail -20; failed=$((failed + 1))
  fi
}
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  wait 2>/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq sightline-agent sightline-relay >/dev/null 2>&1 || true
}
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
arch=$(dpkg --print-architecture)
debs=(dist/sightline-agent_*_"$arch".deb dist/sightline-relay_*_"$arch".deb)
check "the packages install with apt" apt-get install -y -qq "${debs[@]/#/$root/}"
check "binaries in /usr/bin, web app in /usr/share" \
  test -x /usr/bin/sightline-agent -a -x /usr/bin/sightline-relay -a -f /usr/share/sightline/web/index.html
check "settings are conffiles" bash -c "dpkg-query -W -f='\${Conffiles}' sightline-agent | grep -q /etc/sightline/agent.conf \
  && dpkg-query -W -f='\${Conffiles}' sightline-relay | grep -q /etc/sightline/relay.conf"
check "system users; the agent's in the video group" bash -c \
  "getent passwd sightline-relay && id -nG sightline-agent | grep -qw video"
check "secrets made at install, readable by the relay only" bash -c \
  "test \"\$(stat -c '%U:%G %a' /etc/sightline/token-secret)\" = 'root:sightline-relay 640' && test -f /etc/sightline/devices"
check "units installed and valid" systemd-analyze verify /lib/systemd/system/sightline-relay.service \
  /lib/systemd/system/sightline-agent.service
for unit in relay agent; do
  score=$(systemd-analyze security --offline=true "/lib/systemd/system/sightline-$unit.service" 2>/dev/null \
    | sed -n 's/.*exposure level for .*: \([0-9.]*\) .*/\1/p')
  check "sightline-$unit unit hardened (systemd-analyze exposure $score, at most 2.5)" \
    awk -v s="${score:-10}" 'BEGIN { exit !(s <= 2.5) }'
done

# Start a unit's ExecStart as its User=, with extra flags (flags win over the file).
start_unit() {
  local unit=$1; shift
  local exec user
  exec=$(sed -n 's/^ExecStart=//p' "/lib/systemd/system/$unit.service")
  user=$(sed -n 's/^User=//p' "/lib/systemd/system/$unit.service")
  # shellcheck disable=SC2086
  setpriv --reuid="$user" --regid="$user" --init-groups --no-new-privs -- $exec "$@" >>"/tmp/$unit.log" 2>&1 &
  pids+=($!)
}
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
rm -f /tmp/sightline-relay.log /tmp/sightline-agent.log
start_unit sightline-relay --listen "127.0.0.1:$port"
check "the relay serves the page" bash -c "for i in \$(seq 50); do curl -fs http://127.0.0.1:$port/ | grep -qi sightline && exit 0; sleep 0.2; done; exit 1"

secret=$(openssl rand -hex 16)
echo "smoke-cam $secret" >> /etc/sightline/devices
check "the relay re-reads its device list (reload)" bash -c \
  "pkill -HUP -f '^/usr/bin/sightline-relay' && for i in \$(seq 50); do grep -q 'reload: 1 device' /tmp/sightline-relay.log && exit 0; sleep 0.1; done; exit 1"
check "deploy/pi/install.sh configures the agent and its check passes" \
  bash deploy/pi/install.sh --deb "$(ls "$root"/dist/sightline-agent_*_"$arch".deb)" --relay "ws://127.0.0.1:$port" \
    --id smoke-cam --device-secret "$secret" --source test --no-start
start_unit sightline-agent --width 320 --height 240 --ice-address 127.0.0.1
token=$(sightline-relay token --role viewer --ttl 120 --token-secret-file /etc/sightline/token-secret)
check "the agent service shows up in /api/cameras" bash -c "for i in \$(seq 100); do curl -fs -H 'Authorization: Bearer $token' \
  http://127.0.0.1:$port/api/cameras | grep -q '\"id\":\"smoke-cam\".*\"connected\":true' && exit 0; sleep 0.2; done; exit 1"
check "the service users own nothing writable outside their runtime" bash -c \
  "! find /usr/share/sightline /etc/sightline -user sightline-agent -o -user sightline-relay | grep -q ."

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
