"""TLS with a CA the test makes, and a password file made with mosquitto_passwd: the daemon
connects with the right credentials, refuses to start with a plain message with wrong ones, and
never writes the secret anywhere."""

import subprocess

import pytest

from tests.live.harness import Broker, Daemon, Publisher, free_port, site_toml, wait_until

PASSWORD = "s3cret-Levy-pass"


def openssl(*args: str, cwd) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_ca(folder, name: str) -> None:
    openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        f"/CN={name}",
        "-keyout",
        f"{name}.key",
        "-out",
        f"{name}.pem",
        cwd=folder,
    )


@pytest.fixture
def tls(tmp_path):
    folder = tmp_path / "tls"
    folder.mkdir()
    make_ca(folder, "ca")
    make_ca(folder, "other-ca")
    openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        cwd=folder,
    )
    (folder / "san.ext").write_text("subjectAltName = IP:127.0.0.1\n")
    openssl(
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "san.ext",
        "-out",
        "server.pem",
        cwd=folder,
    )
    passwords = folder / "passwd"
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(passwords), "levy", PASSWORD], check=True)
    subprocess.run(["mosquitto_passwd", "-b", str(passwords), "publisher", "pub-pass"], check=True)
    (folder / "mqtt-password").write_text(PASSWORD + "\n")
    (folder / "wrong-password").write_text("not-the-password\n")
    return folder


@pytest.fixture
def broker(tmp_path, tls):
    extra = (
        f"cafile {tls}/ca.pem\ncertfile {tls}/server.pem\nkeyfile {tls}/server.key\n"
        f"password_file {tls}/passwd\nallow_anonymous false\n"
    )
    running = Broker(tmp_path / "broker", extra=extra).start()
    yield running
    running.stop()


def daemon_with(tmp_path, tls, broker, ca: str, password_file: str) -> Daemon:
    health = free_port()
    config = site_toml(
        tmp_path,
        broker.port,
        health,
        1,
        username='"levy"',
        password_file=f'"{tls / password_file}"',
        tls_ca_file=f'"{tls / ca}"',
    )
    return Daemon(config, health)


def test_connects_over_tls_with_the_password_from_a_file(tmp_path, tls, broker):
    daemon = daemon_with(tmp_path, tls, broker, "ca.pem", "mqtt-password").start()
    try:
        publisher = Publisher(broker.port, tls_ca=tls / "ca.pem", auth=("publisher", "pub-pass"))
        publisher.native("t/rig-0", 1_795_000_000_000, "100")
        wait_until(lambda: "levy_messages_total 1.0" in daemon.metrics(), what="the message")
        assert daemon.terminate() == 0
    finally:
        if daemon.process.poll() is None:
            daemon.kill()
    assert PASSWORD not in daemon.output()


def test_wrong_password_refuses_to_start_with_a_plain_message(tmp_path, tls, broker):
    daemon = daemon_with(tmp_path, tls, broker, "ca.pem", "wrong-password").start(
        wait_healthy=False
    )
    assert daemon.wait() == 2
    output = daemon.output()
    assert "refused the connection" in output and "Traceback" not in output
    assert PASSWORD not in output and "not-the-password" not in output
    assert not (tmp_path / "var").exists(), "a refused start leaves no ledger or archive"


def test_an_untrusted_broker_certificate_refuses_to_start(tmp_path, tls, broker):
    daemon = daemon_with(tmp_path, tls, broker, "other-ca.pem", "mqtt-password").start(
        wait_healthy=False
    )
    assert daemon.wait() == 2
    output = daemon.output()
    assert "TLS with the MQTT broker" in output and "Traceback" not in output
    assert PASSWORD not in output
    assert not (tmp_path / "var").exists(), "a refused start leaves no ledger or archive"
