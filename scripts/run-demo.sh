#!/usr/bin/env bash
# Sets everything up and runs the whole system on this machine: the MQTT
# broker, the relay, and an agent with a test camera. Prints the URL to open.
# SIGHTLINE_LISTEN=0.0.0.0:8080 to open it from other machines.
set -euo pipefail
cd "$(dirname "$0")/.."
listen=${SIGHTLINE_LISTEN:-127.0.0.1:8080}
port=${listen##*:}

bash scripts/setup.sh
bash scripts/build.sh build

run=$(mktemp -d /tmp/sightline-demo.XXXXXX)
pids=()
cleanup() {
  # Last started first: the agent and the relay go before the broker they use, so
  # stopping the demo logs no lost MQTT connection.
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill "${pids[$i]}" 2>/dev/null || true
    wait "${pids[$i]}" 2>/dev/null || true
  done
  rm -rf "$run"
}
trap cleanup EXIT INT TERM

# The MQTT broker the control plane uses, on loopback.
mqtt_port=${SIGHTLINE_MQTT_PORT:-1883}
cat > "$run/mosquitto.conf" <<CONF
listener $mqtt_port 127.0.0.1
allow_anonymous true
set_tcp_nodelay true
persistence false
CONF
mosquitto -c "$run/mosquitto.conf" >"$run/mosquitto.log" 2>&1 &
pids+=($!)
mqtt="tcp://127.0.0.1:$mqtt_port"

# Security is on, as in production: a token secret, one device secret for the
# test camera, and an admin token in the printed URL (docs/security.md).
random_hex() { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
random_hex > "$run/token-secret"
device_secret=$(random_hex)
echo "demo-cam $device_secret" > "$run/devices"
chmod 600 "$run/token-secret" "$run/devices"
# Served on loopback (the default), the browser is on this machine: the camera's
# ICE, and the relay's fan-out workers' (docs/fanout.md), stay on loopback too, so
# the demo sends nothing to any other address.
ice=() fanout_ice=()
case "$listen" in 127.*|localhost:*) ice=(--ice-address 127.0.0.1) fanout_ice=(--fanout-ice-address 127.0.0.1) ;; esac
build/relay/sightline-relay --listen "$listen" --web-root web --mqtt "$mqtt" \
  --token-secret-file "$run/token-secret" --device-secrets "$run/devices" "${fanout_ice[@]}" &
pids+=($!)
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
# With sound: the test sound with --stamp is a beep on every second (the audio
# mark, in step with the stamp in the picture's corner); the speaker stand-in
# logs what the page's talk button sends.
build/agent/sightline-agent --source test --id demo-cam --relay "ws://127.0.0.1:$port" --mqtt "$mqtt" \
  --stamp --audio test --speaker test --device-secret "$device_secret" "${ice[@]}" &
pids+=($!)

host=${listen%:*}
[ "$host" = "0.0.0.0" ] && host=$(hostname -I 2>/dev/null | awk '{print $1}')
echo
token=$(build/relay/sightline-relay token --role admin --ttl 86400 --subject demo --token-secret-file "$run/token-secret")
echo "Open http://${host:-127.0.0.1}:$port/?token=$token in a browser"
echo "(the test camera is demo-cam, with a beep each second: unmute on its tile; the page remembers the token)."
echo "Ctrl-C stops everything."
echo "Commands: the panel under /view/demo-cam, or"
echo "  curl -H 'Authorization: Bearer $token' -X POST -d '{\"type\":\"snapshot\"}' http://127.0.0.1:$port/api/cameras/demo-cam/commands"
echo "  mosquitto_sub -p $mqtt_port -v -t 'sightline/#'    # state and acks"
echo
wait -n "${pids[@]}"
