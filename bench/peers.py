"""The clients the daemon's drain is set against, each run as a process of its own on the same
backlog (a session of its own, filled by `bench.backlog`):

- `bare`: a bare paho client as the daemon connects (MQTT v5, persistent session, the daemon's
  Receive Maximum), parsing each payload with `json` and nothing more: the ceiling;
- `influx-sync`: the usual hand-written bridge, one influxdb-client `Point` per message written
  synchronously before paho acknowledges it;
- `influx-batch`: the same with influxdb-client's batching write API, which acknowledges before
  the point is stored (a crash loses what is in its buffer).

    python -m bench.peers KIND --port P --client-id ID --expect N [--influx URL]

It prints one JSON line: messages read and the seconds from CONNACK to the last one (stored,
for the influx peers).
"""

import argparse
import json
import threading
import time

from influxdb_client import InfluxDBClient, Point, WriteOptions
from influxdb_client.client.write_api import SYNCHRONOUS

from bench.backlog import connect_properties, v5_client

BUCKET = "peers"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["bare", "influx-sync", "influx-batch"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--expect", type=int, required=True)
    parser.add_argument("--influx")
    args = parser.parse_args()

    influx = None if args.influx is None else InfluxDBClient(args.influx, "bench", org="bench")
    if args.kind == "influx-sync":
        assert influx is not None
        api = influx.write_api(write_options=SYNCHRONOUS)
    elif args.kind == "influx-batch":
        assert influx is not None
        api = influx.write_api(write_options=WriteOptions(batch_size=5000, flush_interval=1000))

    done = threading.Event()
    connected_at = 0.0
    count = 0

    def on_connect(*_: object) -> None:
        nonlocal connected_at
        connected_at = time.perf_counter()

    def on_message(_client: object, _userdata: object, message: object) -> None:
        nonlocal count
        document = json.loads(message.payload)  # type: ignore[attr-defined]
        if influx is not None:
            point = (
                Point("reading")
                .tag("meter", message.topic)  # type: ignore[attr-defined]
                .field("energy_kwh", float(document["energy_kwh"]))
                .time(int(float(document["ts"]) * 1000), "ms")
            )
            api.write(BUCKET, "bench", point)
        count += 1
        if count >= args.expect:
            done.set()

    client = v5_client(args.client_id)
    client.on_connect = on_connect
    client.on_message = on_message
    client.connect("127.0.0.1", args.port, clean_start=False, properties=connect_properties())
    client.loop_start()
    if not done.wait(3600):
        raise SystemExit(f"read {count} of {args.expect}")
    if args.kind == "influx-batch":
        api.close()  # flushes what is buffered: stored, not only read
    spent = time.perf_counter() - connected_at
    client.disconnect()
    client.loop_stop()
    print(json.dumps({"messages": count, "seconds": spent}))


if __name__ == "__main__":
    main()
