"""The archive folder deleted under a running daemon: the next batch says so as an ERROR,
recreates the folder with a fresh file, and the daemon goes on reading and committing."""

import shutil
import time

from tests.live.harness import Daemon, Publisher, free_port, site_toml, wait_until


def test_a_deleted_archive_folder_is_said_and_recreated(tmp_path, broker) -> None:
    health = free_port()
    config = site_toml(tmp_path, broker.port, health, 2)
    daemon = Daemon(config, health).start()
    folder = tmp_path / "var" / "archive" / "live-test"
    publisher = Publisher(broker.port)
    try:
        now_ms = time.time_ns() // 1_000_000
        publisher.native("t/rig-0", now_ms, "1.5")
        wait_until(lambda: "levy_messages_total 1.0" in daemon.metrics(), what="the first")
        shutil.rmtree(folder)

        publisher.native("t/rig-1", now_ms + 1000, "2.5")
        wait_until(lambda: "levy_messages_total 2.0" in daemon.metrics(), what="the second")
        wait_until(lambda: folder.is_dir() and any(folder.iterdir()), what="a fresh file")
        health = daemon.health()
        assert health["connected"] is True
        assert health["status"] == "degraded" and "vanished" in health["degraded"][0], health
        assert daemon.terminate() == 0
    finally:
        publisher.close()
        if daemon.process.poll() is None:
            daemon.kill()
    errors = [line for line in daemon.output().splitlines() if line.startswith("ERROR")]
    assert len(errors) == 1, errors
    assert f"the folder {folder} vanished" in errors[0]
    fresh = "".join(path.read_text() for path in sorted(folder.iterdir()))
    assert "t/rig-1" in fresh and "t/rig-0" not in fresh
