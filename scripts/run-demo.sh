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
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
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

build/relay/sightline-relay --listen "$listen" --web-root web --mqtt "$mqtt" &
pids+=($!)
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
build/agent/sightline-agent --source test --id demo-cam --relay "ws://127.0.0.1:$port" --mqtt "$mqtt" &
pids+=($!)

host=${listen%:*}
[ "$host" = "0.0.0.0" ] && host=$(hostname -I 2>/dev/null | awk '{print $1}')
echo
echo "Open http://${host:-127.0.0.1}:$port/ in a browser (the test camera is demo-cam). Ctrl-C stops everything."
echo "Commands: the panel under http://${host:-127.0.0.1}:$port/view/demo-cam, or"
echo "  curl -X POST -d '{\"type\":\"snapshot\"}' http://127.0.0.1:$port/api/cameras/demo-cam/commands"
echo "  mosquitto_sub -p $mqtt_port -v -t 'sightline/#'    # state and acks"
echo
wait -n "${pids[@]}"
