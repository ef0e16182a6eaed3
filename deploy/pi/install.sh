#!/usr/bin/env bash
# Installs and configures the Sightline agent on a Raspberry Pi (Raspberry Pi OS
# Bookworm, arm64 or armhf) or any Debian 12 machine with a camera, as root:
#
#   sudo bash deploy/pi/install.sh --relay wss://relay.example.org --device-secret SECRET [--id porch]
#        [--source v4l2:/dev/video0 | libcamera | test] [--deb sightline-agent_*.deb] [--mqtt ssl://...]
#
# Without --deb it builds the package on this machine first (scripts/package.sh).
# It writes /etc/sightline/agent.conf (keeping what it does not set), stores the
# device secret in /etc/sightline/device-secret; without --source it takes the
# camera found, or every camera found (one [camera NAME] group each, camera ids
# ID/NAME); then restarts the service and runs `sightline-agent --check`.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)

relay='' secret='' id='' source='' deb='' mqtt='' start=1
while [ $# -gt 0 ]; do
  case "$1" in
    --relay) relay=$2; shift 2 ;;
    --device-secret) secret=$2; shift 2 ;;
    --id) id=$2; shift 2 ;;
    --source) source=$2; shift 2 ;;
    --deb) deb=$2; shift 2 ;;
    --mqtt) mqtt=$2; shift 2 ;;
    --no-start) start=0; shift ;;
    *) echo "install.sh: unknown option $1 (see the top of this file)" >&2; exit 2 ;;
  esac
done
[ -n "$relay" ] || { echo "install.sh: --relay URL is needed (ws://HOST:PORT or wss://HOST)" >&2; exit 2; }
[ -n "$secret" ] || { echo "install.sh: --device-secret is needed (the relay's devices file lists it)" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "install.sh: run as root (sudo)" >&2; exit 2; }
id=${id:-$(hostname)}

export DEBIAN_FRONTEND=noninteractive
if [ -z "$deb" ]; then
  bash "$here/scripts/package.sh"
  deb=$(ls "$here"/dist/sightline-agent_*_"$(dpkg --print-architecture)".deb | head -1)
fi
apt-get install -y -qq "$(realpath "$deb")" >/dev/null
echo "install.sh: installed $(dpkg-query -W -f='${Package} ${Version} (${Architecture})' sightline-agent)"

conf=/etc/sightline/agent.conf
# key=value in the [agent] group: replaces the group's line with the key
# (commented or not), else adds it at the group's end; other groups ([camera
# NAME]) are left as they are.
set_key() {
  local tmp
  tmp=$(mktemp)
  awk -v k="$1" -v v="$2" '
    /^\[/ {
      if (section == "agent" && !done) { print k "=" v; done = 1 }
      section = ($0 == "[agent]") ? "agent" : "other"
      if (section == "agent") seen = 1
    }
    section == "agent" && !done && $0 ~ ("^#?" k "=") { print k "=" v; done = 1; next }
    { print }
    END { if (!done) { if (!seen) print "[agent]"; print k "=" v } }' "$conf" > "$tmp"
  cat "$tmp" > "$conf"  # in place: the conffile keeps its owner and mode
  rm -f "$tmp"
}
cameras=0
if [ -z "$source" ]; then
  cameras=$(sightline-agent --list-devices | grep -c '^  source=' || true)
  if [ "$cameras" -gt 1 ]; then
    # Every camera found, one [camera NAME] group each (kept if the file has groups already).
    if ! grep -q '^\[camera ' "$conf"; then
      { echo; sightline-agent --list-devices | sed -n '/^\[camera /,$p'; } >> "$conf"
    fi
    source=test  # [agent]'s source: only a default for groups that leave theirs out
  else
    source=$(sightline-agent --list-devices | sed -n 's/^  source=//p' | head -1)
  fi
  if [ -z "$source" ]; then
    echo "install.sh: no camera found (sightline-agent --list-devices); using the test pattern for now" >&2
    source=test
  fi
fi
(umask 027 && printf '%s\n' "$secret" > /etc/sightline/device-secret)
chown root:sightline-agent /etc/sightline/device-secret
set_key id "$id"
set_key relay "$relay"
set_key source "$source"
set_key device-secret-file /etc/sightline/device-secret
[ -z "$mqtt" ] || set_key mqtt "$mqtt"
if [ "$cameras" -gt 1 ]; then
  echo "install.sh: $conf: id=$id relay=$relay, $cameras cameras ([camera NAME] groups: $(grep -o '^\[camera [^]]*' "$conf" | cut -c9- | paste -sd' '))"
else
  echo "install.sh: $conf: id=$id relay=$relay source=$source"
fi

if [ "$start" -eq 1 ] && [ -d /run/systemd/system ]; then
  systemctl enable --now sightline-agent >/dev/null 2>&1 || true
  systemctl restart sightline-agent
fi
# The check runs as the service does, with its user and groups.
runuser -u sightline-agent -- sightline-agent --config "$conf" --check
