"""Fixtures shared by the live tests."""

import pytest

from tests.live.harness import Broker


@pytest.fixture
def broker(tmp_path):
    """A Mosquitto of the test's own (a test module may define its own `broker` instead)."""
    running = Broker(tmp_path / "broker").start()
    yield running
    running.stop()
