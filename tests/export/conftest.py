"""The real databases of the export tests, one of each per module (DESIGN.md section 5)."""

import pytest

from tests.export.sites import TOKEN
from tests.tsdb.servers import InfluxDB16, V2WriteProxy, VictoriaMetrics


@pytest.fixture(scope="module")
def influx(tmp_path_factory):
    """InfluxDB 1.6 behind the v2 write path; `.proxy.url` is what a site's [influx] names."""
    server = InfluxDB16(tmp_path_factory.mktemp("influxdb")).start()
    server.proxy = V2WriteProxy(server, TOKEN).start()
    yield server
    server.proxy.stop()
    server.stop()


@pytest.fixture(scope="module")
def victoria(tmp_path_factory):
    server = VictoriaMetrics(tmp_path_factory.mktemp("victoria")).start()
    yield server
    server.stop()
