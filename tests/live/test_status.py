"""Availability topics set a meter's reported status for the dashboards, without touching billing."""

from tests.live.harness import Broker, Daemon, Publisher, free_port, wait_until


def test_tasmota_last_will_marks_the_meter_offline_then_online(tmp_path):
    broker = Broker(tmp_path / "broker").start()
    health = free_port()
    config = tmp_path / "site.toml"
    config.write_text(
        f'[site]\nid = "status"\n[mqtt]\nport = {broker.port}\ntopics = ["tele/#"]\n'
        f"[daemon]\nhealth_port = {health}\n"
        '[[meters]]\nid = "plug-1"\ntopic = "tele/plug-1/SENSOR"\nformat = "tasmota"\n'
        'rated_kw = "3.6"\n'
    )
    daemon = Daemon(config, health).start()
    try:
        publisher = Publisher(broker.port)
        publisher.raw("tele/plug-1/LWT", b"Offline")
        wait_until(lambda: daemon.health()["meters"] == {"offline": 1}, what="offline")
        assert 'levy_meters{status="offline"} 1.0' in daemon.metrics()
        publisher.raw("tele/plug-1/LWT", b"Online")
        wait_until(lambda: daemon.health()["meters"] == {"silent": 1}, what="back, not yet read")
        assert daemon.terminate() == 0
    finally:
        if daemon.process.poll() is None:
            daemon.kill()
        broker.stop()
