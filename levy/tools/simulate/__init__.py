"""`levy-monitor simulate`: a synthetic fleet of metered rigs, published live or recorded.

It serves the README demo, the tests and the benchmarks, so it is built to be checked against:
every payload is one the collector's decoders accept (or, on demand, one they must refuse), the
same seed gives the same stream, and a ground-truth file says what each rig really consumed and
which faults it suffered.

It reuses the production types: meters are the configuration's `Meter` records, a device's
instant is a `collector.formats.Frame`, which each device format encodes into
`collector.message.Message`s (its decoder's mirror image), and the broker settings are the
daemon's `collector.mqtt.BrokerSettings`.

- `fleet`: the rigs, their registers and loads, the schedule and fault injection.
- `pacing`: wall-clock or simulated time, and the optional message-rate cap.
- `publish` / `record`: the two sinks, a live MQTT broker or a recorded feed file.
- `runner`: the loop joining them; `truth`: the ground-truth document.
- `cli`: the command's options and run.
"""
