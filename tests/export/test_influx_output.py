"""The InfluxDB output loads influxdb-client (and numpy) at its first write, in the exporter's
thread, not when a daemon starts; a token that cannot be read still stops the start."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from levy.config import ConfigError, InfluxConfig
from levy.config.context import LoadContext
from levy.export.influx import InfluxOutput
from levy.export.output import WriteFailure

CONFIG = {"url": "http://127.0.0.1:9", "org": "o", "bucket": "b", "token_env": "LEVY_TEST_TOKEN"}


def test_a_daemon_starts_without_influxdb_client() -> None:
    script = textwrap.dedent(
        f"""
        import os, sys
        from pathlib import Path
        import levy.app.daemon
        from levy.config import InfluxConfig
        from levy.config.context import LoadContext
        from levy.export.influx import InfluxOutput
        os.environ["LEVY_TEST_TOKEN"] = "t"
        config = InfluxConfig.model_validate({CONFIG!r}, context=LoadContext(Path(".")))
        output = InfluxOutput(config)
        output.close()
        print(sorted({{"influxdb_client", "numpy"}} & set(sys.modules)))
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_a_token_that_cannot_be_read_stops_the_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LEVY_TEST_TOKEN", raising=False)
    config = InfluxConfig.model_validate(CONFIG, context=LoadContext(Path(".")))
    with pytest.raises(ConfigError, match="LEVY_TEST_TOKEN"):
        InfluxOutput(config)


def test_the_first_write_makes_the_client(monkeypatch: pytest.MonkeyPatch) -> None:
    """Port 9 (discard) refuses: the failure is the plain one the exporter reports."""
    monkeypatch.setenv("LEVY_TEST_TOKEN", "t")
    output = InfluxOutput(InfluxConfig.model_validate(CONFIG, context=LoadContext(Path("."))))
    with pytest.raises(WriteFailure) as failure:
        output.write(["m f=1 1"])
    output.close()
    assert failure.value.reason == "unreachable"
    assert output.target == "influx http://127.0.0.1:9 org=o bucket=b"
