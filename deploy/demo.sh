#!/usr/bin/env bash
# The whole thing on one machine: a private Mosquitto on a free port, the levy-monitor daemon,
# and a simulated fleet of every device format with faults; the month-to-date liabilities are
# shown every few seconds. Stops after DEMO_SECONDS (default 120) or on Ctrl-C, and leaves its
# ledger and archive in DEMO_DIR (default var/demo) for `report` and `replay`.
set -euo pipefail
cd "$(dirname "$0")/.."

DEMO_DIR=${DEMO_DIR:-var/demo}
DEMO_SECONDS=${DEMO_SECONDS:-120}
PY=${PYTHON:-python3}
MOSQUITTO=$(command -v mosquitto || echo /usr/sbin/mosquitto)
[ -x "$MOSQUITTO" ] || { echo "demo: mosquitto is not installed (apt-get install mosquitto)" >&2; exit 2; }
"$PY" -c "import levy.cli" 2>/dev/null \
    || { echo "demo: $PY cannot import levy-monitor: run $PY -m pip install -e . first (or set PYTHON)" >&2; exit 2; }

mkdir -p "$DEMO_DIR"
DEMO_DIR=$(cd "$DEMO_DIR" && pwd)
health() { "$PY" -c "import urllib.request as u; print(u.urlopen('http://127.0.0.1:$HEALTH_PORT/healthz', timeout=2).read().decode())" 2>/dev/null; }
free_port() { "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
BROKER_PORT=$(free_port)
HEALTH_PORT=$(free_port)

cat > "$DEMO_DIR/mosquitto.conf" <<CONF
listener $BROKER_PORT 127.0.0.1
allow_anonymous true
persistence true
persistence_location $DEMO_DIR/
max_queued_messages 0
log_dest file $DEMO_DIR/mosquitto.log
$( [ "$(id -u)" = 0 ] && echo "user root" )
CONF

cat > "$DEMO_DIR/site.toml" <<CONF
# The demo site: six rigs of every device format. Short stale_after_s so that gaps and faults
# show as deemed energy within the demo's two minutes (the default is 900 s).
[site]
id = "demo"

[mqtt]
port = $BROKER_PORT
client_id = "levy-demo"

[rules]
stale_after_s = 60

[daemon]
sweep_interval_s = 10
health_port = $HEALTH_PORT

[[meters]]
id = "rig-0001"
topic = "mining/demo/rig-0001"
rated_kw = "3.25"

[[meters]]
id = "rig-0002"
topic = "mining/demo/rig-0002"
rated_kw = "3.25"
supply = "off_grid"

[[meters]]
id = "rig-0003"
topic = "tele/rig-0003/SENSOR"
format = "tasmota"
rated_kw = "3.6"

[[meters]]
id = "rig-0004"
topic = "shellies/rig-0004"
format = "shelly"
rated_kw = "3.5"

[[meters]]
id = "rig-0005"
topic = "zigbee2mqtt/rig-0005"
format = "zigbee2mqtt"
rated_kw = "1.5"

[[meters]]
id = "rig-0006"
topic = "mbmd/rig-0006"
format = "mbmd"
rated_kw = "3.4"
supply = "off_grid"
CONF

pids=()
stop() {
    trap - EXIT INT TERM
    [ -n "${SIMULATOR:-}" ] && kill -INT "$SIMULATOR" 2>/dev/null && wait "$SIMULATOR" 2>/dev/null || true
    [ -n "${DAEMON:-}" ] && kill -TERM "$DAEMON" 2>/dev/null && wait "$DAEMON" 2>/dev/null || true
    [ -n "${BROKER:-}" ] && kill -TERM "$BROKER" 2>/dev/null && wait "$BROKER" 2>/dev/null || true
    echo
    if [ -f "$DEMO_DIR/var/demo.sqlite" ]; then
        echo "demo stopped; the ledger stays in $DEMO_DIR:"
        echo "  $PY -m levy report -c $DEMO_DIR/site.toml --period $(TZ=Asia/Almaty date +%Y-%m)"
        echo "  $PY -m levy replay -c <a copy with another ledger path> -i $DEMO_DIR/var/archive/demo"
    else
        echo "demo stopped before the daemon made its ledger: see $DEMO_DIR/daemon.log" >&2
    fi
}
trap stop EXIT INT TERM

"$MOSQUITTO" -c "$DEMO_DIR/mosquitto.conf" & BROKER=$!
for _ in $(seq 50); do "$PY" -c "import socket; socket.create_connection(('127.0.0.1', $BROKER_PORT), 0.2)" 2>/dev/null && break; sleep 0.1; done

"$PY" -m levy run -c "$DEMO_DIR/site.toml" 2>>"$DEMO_DIR/daemon.log" & DAEMON=$!
for _ in $(seq 100); do health >/dev/null && break; sleep 0.1; done

"$PY" -m levy simulate -c "$DEMO_DIR/site.toml" --interval 5 --seed 1 \
    --fault-rate 0.02 --gap-rate 0.01 --gap-s 90 --reset-rate 0.005 --spike-rate 0.005 \
    --malformed-rate 0.02 2>>"$DEMO_DIR/simulator.log" & SIMULATOR=$!

PERIOD=$(TZ=Asia/Almaty date +%Y-%m)
END=$(( $(date +%s) + DEMO_SECONDS ))
while [ "$(date +%s)" -lt "$END" ]; do
    sleep 10
    echo "==== $(date -u +%H:%M:%S) UTC   health: $(health || echo unreachable)"
    "$PY" -m levy report -c "$DEMO_DIR/site.toml" --period "$PERIOD"
done
