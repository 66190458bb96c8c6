"""The InfluxDB output: the v2 write API through influxdb-client, which InfluxDB 1.8+, 2.x, 3.x
and Cloud accept. Synchronous writes, so the exporter moves its cursor only after the database
has answered 204; gzip, a timeout and a few retries with backoff for a passing failure
(influx_client.py).

influxdb-client and numpy take 0.3 s and about 25 MiB to load: the client is made by the first
write (the daemon's is in its export process). The token is read here, when the daemon starts,
so that one that cannot be read still stops the start."""

import logging
from typing import TYPE_CHECKING

from levy.config.sections import InfluxConfig

if TYPE_CHECKING:
    from levy.export.influx_client import InfluxWriter

for noisy in ("influxdb_client.client.write_api", "urllib3.connectionpool"):
    logging.getLogger(noisy).setLevel(logging.CRITICAL)
"""Their retry and failure lines would repeat what the exporter says once, plainly."""


class InfluxOutput:
    def __init__(self, config: InfluxConfig) -> None:
        self.target = f"influx {config.url} org={config.org} bucket={config.bucket}"
        self._config = config
        self._token = config.resolve_token()
        self._writer: InfluxWriter | None = None

    def write(self, lines: list[str]) -> None:
        self._client().write(lines)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()

    def _client(self) -> "InfluxWriter":
        """Made by the first write; the exporter writes and closes from one thread."""
        if self._writer is None:
            from levy.export.influx_client import InfluxWriter

            config = self._config
            token = self._token.get_secret_value()
            self._writer = InfluxWriter(config.url, token, config.org, config.bucket)
        return self._writer
